#!/usr/bin/env python3
# gen_scenarios.py - writes tests/relup/main/ (lib/APP-VSN/ebin/APP.app[up], rel/*.rel) and
# tests/relup/cases.terms: the make-relup scenario matrix that t_make_relup.sh runs through
# knit and OTP's systools:make_relup/4. Run it again after editing; its outputs are committed.
import os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "main")
APPS = {}   # (name, vsn) -> dict
RELS = {}   # file -> text
CASES = []

def app(name, vsn, mods=(), uses=(), incl=(), appup=None, regs=(), appvsn=None):
    APPS[(name, vsn)] = dict(mods=list(mods), uses=list(uses), incl=list(incl), appup=appup,
                             regs=list(regs), appvsn=appvsn or vsn)

def rel(fname, vsn, erts, apps, core=None):
    core = core if core is not None else [("kernel", "1.0"), ("stdlib", "1.0"), ("sasl", "3.0")]
    ents = []
    for a in core + apps:
        if len(a) == 2:
            ents.append('{%s,"%s"}' % a)
        elif isinstance(a[2], list):
            ents.append('{%s,"%s",[%s]}' % (a[0], a[1], ",".join(a[2])))
        else:
            ents.append('{%s,"%s",%s}' % a)
    RELS[fname] = '{release,{"rel_%s","%s"},{erts,"%s"},\n [%s]}.\n' % (
        fname, vsn, erts, ",\n  ".join(ents))

def case(cid, top, ups, downs, opts=(), paths=("lib/*/ebin",)):
    CASES.append((cid, top, list(ups), list(downs), list(paths), list(opts)))

# --- core stand-ins ---
app("kernel", "1.0"); app("stdlib", "1.0")
app("kernel", "2.0", appup='{"2.0",[{"1.0",[restart_new_emulator]}],[{"1.0",[restart_new_emulator]}]}.')
app("sasl", "1.0"); app("sasl", "10.0")
app("sasl", "3.0", appup='{"3.0",[{<<"1\\\\..*">>,[restart_new_emulator]}],[{<<"1\\\\..*">>,[restart_new_emulator]}]}.')
app("sasl", "4.0", appup='{"4.0",[{<<".*">>,[restart_new_emulator]}],[{<<".*">>,[restart_new_emulator]}]}.')

def pair(name, mods0, mods1, up, dn, v0="1.0", v1="2.0", extra_from=()):
    app(name, v0, mods0)
    ups = ",\n  ".join(['{"%s",[%s]}' % (v, up) for v in (v0,) + tuple(extra_from)])
    dns = ",\n  ".join(['{"%s",[%s]}' % (v, dn) for v in (v0,) + tuple(extra_from)])
    app(name, v1, mods1, appup='{"%s",\n [%s],\n [%s]}.\n' % (v1, ups, dns))

# --- instruction families (each: name, old modules, new modules, up, down) ---
pair("lm", ["lm1", "lm2", "lm3", "lm4"], ["lm1", "lm2", "lm3", "lm4"],
     "{load_module,lm1},{load_module,lm2,[lm1]},{load_module,lm3,soft_purge,soft_purge,[]},"
     "{load_module,lm4,brutal_purge,soft_purge,[lm3,lm2]}",
     "{load_module,lm4},{load_module,lm3,[lm4]},{load_module,lm2,soft_purge,brutal_purge,[]},"
     "{load_module,lm1}", extra_from=("0.9",))
app("lm", "0.9", ["lm1", "lm2", "lm3", "lm4"])
U = ["u%d" % i for i in range(1, 11)]
pair("up", U, U,
     "{update,u1},{update,u2,soft},{update,u3,supervisor},{update,u4,{advanced,x4}},"
     "{update,u5,[u1]},{update,u6,{advanced,[x6]},[u5,u2]},"
     "{update,u7,soft,soft_purge,brutal_purge,[]},{update,u8,5000,{advanced,[]},brutal_purge,brutal_purge,[]},"
     "{update,u9,static,infinity,{advanced,y9},soft_purge,soft_purge,[u3]},"
     "{update,u10,dynamic,default,soft,brutal_purge,brutal_purge,[u9]}",
     "{update,u1},{update,u3,supervisor},{update,u4,{advanced,x4}},"
     "{update,u9,static,infinity,{advanced,y9},soft_purge,soft_purge,[u3]},"
     "{update,u8,5000,{advanced,[]},brutal_purge,brutal_purge,[u1]},"
     "{update,u6,dynamic,default,{advanced,z},soft_purge,soft_purge,[u4]}")
pair("am", ["am1", "am2", "am3"], ["am1", "am2", "am4", "am5"],
     "{add_module,am4},{add_module,am5,[am4]},{delete_module,am3},{load_module,am1,[am5]},"
     "{delete_module,am2,[]}",
     "{delete_module,am4},{delete_module,am5,[am4]},{add_module,am3},{add_module,am2,[am3]}")
pair("ch", ["c%d" % i for i in range(1, 7)], ["c%d" % i for i in range(1, 7)],
     "{update,c3,soft,soft_purge,soft_purge,[c4]},{update,c1,[c2]},"
     "{load_module,c4,brutal_purge,brutal_purge,[c5]},{apply,{io,format,[\"between\"]}},"
     "{update,c2,[c3]},{update,c5,{advanced,e5},[]},{update,c6,[]}",
     "{update,c6,[]},{update,c5,{advanced,e5},[]},{update,c2,[c3]},{update,c3,[c4]},"
     "{load_module,c4,[c5]},{update,c1,[c2]}")
pair("cy", ["y%d" % i for i in range(1, 6)], ["y%d" % i for i in range(1, 6)],
     "{update,y2,[y1]},{update,y1,{advanced,a},[y2]},{update,y3,[y1]},{update,y4,[y3,y5]},"
     "{update,y5,{advanced,b},[y4]}",
     "{update,y5,{advanced,b},[y4]},{update,y4,[y5]},{update,y3,[y1]},{update,y1,[y2]},"
     "{update,y2,[y1,y3]}")
pair("fo", ["f1", "f2", "f3", "f4"], ["f1", "f2", "f3", "f4"],
     "{update,f1,[f2,f3]},{update,f2,[]},{update,f3,[]},{load_module,f4}",
     "{load_module,f4,[f1]},{update,f1,[f2,f3]},{update,f3,[]},{update,f2,[]}")
pair("ll", ["l1", "l2", "l3"], ["l1", "l2", "l3"],
     "{load_object_code,{ll,\"2.0\",[l1,l2]}},{apply,{ll_mig,pre,[]}},point_of_no_return,"
     "{suspend,[l1,{l2,3000}]},{load,{l1,soft_purge,soft_purge}},{load,{l2,brutal_purge,brutal_purge}},"
     "{code_change,up,[{l1,x}]},{code_change,[{l2,y}]},{resume,[l1,l2]},{stop,[l3]},{start,[l3]},"
     "{sync_nodes,s1,[n1@host,n2@host]},{sync_nodes,s2,{ll,nodes,[]}},{load_module,l3},restart",
     "{load_object_code,{ll,\"1.0\",[l3]}},point_of_no_return,{load,{l3,brutal_purge,brutal_purge}},"
     "{purge,[l3]},{remove,{l3,soft_purge,soft_purge}},{update,l1,{advanced,d}},"
     "{load_module,l2,[l1]},restart_emulator")
pair("rs", ["rs1", "rs2"], ["rs1", "rs3"], "{restart_application,rs}", "{restart_application,rs}")
pair("ob", ["ob1"], ["ob1"], "{load_module,ob1}", "{load_module,ob1}")
pair("oc", ["oc1"], ["oc1"], "{load_module,oc1}", "{load_module,oc1}")
APPS[("ob", "2.0")]["uses"] = ["kernel", "oc"]
APPS[("ob", "1.0")]["uses"] = ["kernel", "oc"]
APPS[("ob", "2.0")]["incl"] = ["oi"]
app("oi", "1.0", ["oi1"])
app("gone", "1.0", ["g1", "g2"])
for n, t in [("np", "permanent"), ("nt", "transient"), ("nm", "temporary"), ("nl", "load"),
             ("nn", "none")]:
    app(n, "1.0", [n + "1", n + "2"])
app("bv", "1.0", ["bv1"])
app("bv", "1.1", ["bv1"], appup='{"1.0.9",[{"1.0",[{load_module,bv1}]}],[{"1.0",[{load_module,bv1}]}]}.')
# regex keys
app("rx", "3.0", ["rx1"], appup='{"3.0",\n [{<<"1\\\\.[0-9]+">>,[{load_module,rx1}]},\n'
    '  {"2.0",[{update,rx1}]},\n  {<<"2(\\\\.[0-9]+)*">>,[{update,rx1,{advanced,two}}]},\n'
    '  {<<"2">>,[{add_module,rx1}]}],\n [{<<"1\\\\..*">>,[{load_module,rx1}]},{<<".*">>,[]}]}.\n'
    'this is not read: only the first term counts.\n')
for v in ["1.5", "2.0", "2.0.1", "12.0", "1.5x"]:
    app("rx", v, ["rx1"])
# application added / removed inside an appup
pair("ap", ["ap1"], ["ap1"], "{add_application,nn},{remove_application,gone}",
     "{remove_application,nn},{add_application,gone,temporary}")

BASE = [("kernel", "1.0"), ("stdlib", "1.0"), ("sasl", "3.0")]
def feat(name, olds, news, erts0="5.0", erts1="5.0", core0=None, core1=None):
    rel(name + "_0", "0", erts0, olds, core0)
    rel(name + "_1", "1", erts1, news, core1)

for a in ["lm", "up", "am", "ch", "cy", "fo", "ll"]:
    feat(a, [(a, "1.0")], [(a, "2.0")])
    case(a, "rel/%s_1" % a, ["rel/%s_0" % a], ["rel/%s_0" % a])
feat("rs", [("rs", "1.0", "transient")], [("rs", "2.0", "transient")])
case("restart_application", "rel/rs_1", ["rel/rs_0"], ["rel/rs_0"])
feat("order", [("ob", "1.0"), ("oc", "1.0")], [("ob", "2.0"), ("oc", "2.0"), ("oi", "1.0", "load")])
case("app_order_uses_includes", "rel/order_1", ["rel/order_0"], ["rel/order_0"])
feat("addrm", [("gone", "1.0", "transient")],
     [("np", "1.0"), ("nt", "1.0", "transient"), ("nm", "1.0", "temporary"), ("nl", "1.0", "load"),
      ("nn", "1.0", "none")])
case("apps_added_removed", "rel/addrm_1", ["rel/addrm_0"], ["rel/addrm_0"])
feat("apinst", [("ap", "1.0"), ("gone", "1.0")], [("ap", "2.0"), ("nn", "1.0", "none")])
case("appup_add_remove_application", "rel/apinst_1", ["rel/apinst_0"], ["rel/apinst_0"])
ALL0 = [("lm", "1.0"), ("up", "1.0"), ("am", "1.0"), ("ch", "1.0"), ("cy", "1.0"), ("ll", "1.0"),
        ("rs", "1.0"), ("gone", "1.0")]
ALL1 = [("lm", "2.0"), ("up", "2.0"), ("am", "2.0"), ("ch", "2.0"), ("cy", "2.0"), ("ll", "2.0"),
        ("rs", "2.0"), ("np", "1.0")]
rel("all_0", "A0", "5.0", ALL0)
rel("all_0b", "A0b", "5.0", [("lm", "0.9")] + ALL0[1:])
rel("all_0c", "A0c", "5.0", [("lm", "2.0")] + ALL0[1:6])
rel("all_1", "A1", "5.0", ALL1)
rel("all_1e", "A1e", "6.0", ALL1)
case("all_in_one", "rel/all_1", ["rel/all_0"], ["rel/all_0"])
case("several_from_versions", "rel/all_1", ["rel/all_0", "rel/all_0b", "rel/all_0c"],
     ["rel/all_0c", "rel/all_0"])
case("same_release", "rel/all_0", ["rel/all_0"], ["rel/all_0"])
case("only_down", "rel/all_1", [], ["rel/all_0b"])
case("erts_changed", "rel/all_1e", ["rel/all_0"], ["rel/all_0"])
case("restart_emulator_opt", "rel/all_1", ["rel/all_0"], ["rel/all_0"], ["restart_emulator"])
case("erts_changed_restart_opt", "rel/all_1e", ["rel/all_0", "rel/all_0c"], ["rel/all_0"],
     ["restart_emulator"])
case("erts_changed_warnings_as_errors", "rel/all_1e", ["rel/all_0"], [], ["warnings_as_errors"])
rel("old_sasl", "S0", "5.0", [("lm", "1.0")], [("kernel", "1.0"), ("stdlib", "1.0"), ("sasl", "1.0")])
rel("old_sasl10", "S10", "5.0", [("lm", "1.0")], [("kernel", "1.0"), ("stdlib", "1.0"), ("sasl", "10.0")])
rel("new_erts", "E1", "6.0", [("lm", "2.0")], [("kernel", "1.0"), ("stdlib", "1.0"), ("sasl", "4.0")])
rel("new_kernel", "K2", "5.0", [("lm", "2.0")], [("kernel", "2.0"), ("stdlib", "1.0"), ("sasl", "3.0")])
case("pre_r15_sasl", "rel/new_erts", ["rel/old_sasl"], ["rel/old_sasl"])
case("pre_r15_sasl_restart_opt", "rel/new_erts", ["rel/old_sasl"], [], ["restart_emulator"])
case("sasl_10_compares_as_string", "rel/new_erts", ["rel/old_sasl10"], ["rel/old_sasl10"])
case("core_app_restart_new_emulator", "rel/new_kernel", ["rel/all_0c", "rel/old_sasl"], ["rel/all_0c"])
feat("bv", [("bv", "1.0")], [("bv", "1.1")])
case("bad_vsn_warning", "rel/bv_1", ["rel/bv_0"], ["rel/bv_0"])
case("bad_vsn_warnings_as_errors", "rel/bv_1", ["rel/bv_0"], [], ["warnings_as_errors"])
for v in ["1.5", "2.0", "2.0.1", "12.0", "1.5x"]:
    rel("rx_" + v, v, "5.0", [("rx", v)])
rel("rx_top", "3", "5.0", [("rx", "3.0")])
case("regex_first_entry", "rel/rx_top", ["rel/rx_1.5"], ["rel/rx_1.5", "rel/rx_2.0"])
case("regex_string_key_before_regex", "rel/rx_top", ["rel/rx_2.0", "rel/rx_2.0.1"], [])
case("regex_partial_match_is_no_match", "rel/rx_top", ["rel/rx_12.0"], [])
case("regex_prefix_match_is_no_match", "rel/rx_top", ["rel/rx_1.5x"], [])
case("path_wildcard_in_name", "rel/lm_1", ["rel/lm_0"], [], paths=["lib/lm-*/ebin", "lib/kernel-1.0/ebin", "lib/stdlib-1.0/ebin", "lib/sasl-3.0/ebin"])

# --- errors: one app "e" whose appup for version 2.0-KIND holds the bad instruction ---
app("e", "1.0", ["e1", "e2", "e3"])
app("other", "1.0", ["o1"])
ERR = {
    "bad_instruction": "{foo,bar}",
    "bad_instruction_short_update": "{update,e1,static}",
    "bad_module": '{load_module,"e1"}',
    "bad_change": "{update,e1,hard,soft_purge,soft_purge,[]}",
    "bad_mod_type": "{update,e1,wobbly,default,soft,soft_purge,soft_purge,[]}",
    "bad_purge_method": "{load_module,e1,soft_purge,gentle_purge,[]}",
    "bad_list": "{load_module,e1,soft_purge,soft_purge,e2}",
    "bad_timeout": "{update,e1,0,soft,soft_purge,soft_purge,[]}",
    "bad_timeout_suspend": "point_of_no_return,{suspend,[{e1,-5}]},{resume,[e1]}",
    "bad_args_list": "{apply,{e1,f,noargs}}",
    "bad_func": '{apply,{e1,"f",[]}}',
    "bad_node": "{sync_nodes,id,[n1@h,42]}",
    "bad_application": '{restart_application,"e"}',
    "bad_start_type": "{add_application,other,forever}",
    "bad_lib": '{load_object_code,{"e","2.0",[e1]}}',
    "bad_lib_vsn": "{load_object_code,{e,v2,[e1]}}",
    "bad_code_change": "point_of_no_return,{suspend,[e1]},{code_change,[e1]},{resume,[e1]}",
    "bad_mode": "point_of_no_return,{suspend,[e1]},{code_change,sideways,[{e1,x}]},{resume,[e1]}",
    "not_yet_implemented": "mnesia_backup",
    "too_many_point_of_no_return": "point_of_no_return,{load_module,e1},point_of_no_return",
    "bad_op_before_point_of_no_return": "{load_module,e1},point_of_no_return",
    "no_object_code": "point_of_no_return,{load,{e1,brutal_purge,brutal_purge}}",
    "suspended_not_resumed": "{suspend,[e1,e2]},{resume,[e1]}",
    "resumed_not_suspended": "{suspend,[e1]},{resume,[e1,e3]}",
    "start_not_stop": "{start,[e1]}",
    "stop_not_start": "{stop,[e1]},{start,[e2]},{stop,[e2]}",
    "no_such_application": "{restart_application,nosuch}",
    "removed_application_present": "{remove_application,kernel}",
    "conflicting_versions": '{load_object_code,{e,"1.9",[e2]}},{load_module,e1}',
    "no_such_module": "{load_module,nosuchmod}",
    "undef_module": "{update,e1,[e2]}",
    "muldef_module": "{load_module,e1},{update,e1}",
    "instructions_not_a_list": None,
}
for kind, instrs in ERR.items():
    v = "2.0-" + kind
    up = "notalist" if instrs is None else "[%s]" % instrs
    app("e", v, ["e1", "e2", "e3"], appup='{"%s",[{"1.0",%s}],[{"1.0",%s}]}.' % (v, up, up))
    rel("e_" + kind, kind, "5.0", [("e", v)])
rel("e_0", "0", "5.0", [("e", "1.0")])
for kind in ERR:
    case("err_" + kind, "rel/e_" + kind, ["rel/e_0"], [])
case("err_down_bad_instruction", "rel/e_bad_instruction", [], ["rel/e_0"])
case("err_down_undef_module", "rel/e_undef_module", [], ["rel/e_0"])
app("e", "2.0-no_appup", ["e1"])
rel("e_no_appup", "n", "5.0", [("e", "2.0-no_appup")])
case("err_file_problem_missing_appup", "rel/e_no_appup", ["rel/e_0"], [])
app("e", "2.0-parse", ["e1"], appup='{"2.0-parse",[{"1.0" [{load_module,e1}]}],[]}.')
rel("e_parse", "p", "5.0", [("e", "2.0-parse")])
case("err_file_problem_parse", "rel/e_parse", ["rel/e_0"], [])
app("e", "2.0-norelup", ["e1"], appup='{"2.0-norelup",[{"0.1",[]}],[{"0.1",[]},{<<"1">>,[]},{<<"1.">>,[]}]}.')
rel("e_norelup", "nr", "5.0", [("e", "2.0-norelup")])
case("err_no_relup_up", "rel/e_norelup", ["rel/e_0"], [])
case("err_no_relup_down", "rel/e_norelup", [], ["rel/e_0"])
rel("nosasl", "ns", "5.0", [("e", "1.0")], [("kernel", "1.0"), ("stdlib", "1.0")])
case("err_missing_sasl_top", "rel/nosasl", ["rel/e_0"], [])
case("err_missing_sasl_base", "rel/e_0", ["rel/nosasl"], [])
rel("nostdlib", "nk", "5.0", [("e", "1.0")], [("kernel", "1.0"), ("sasl", "3.0")])
case("err_missing_mandatory_app", "rel/nostdlib", ["rel/e_0"], [])
rel("badvsnapp", "bva", "5.0", [("e", "9.9")])
case("err_app_version_not_found", "rel/badvsnapp", ["rel/e_0"], [])
rel("noapp", "na", "5.0", [("nosuchapp", "1.0")])
case("err_app_not_found", "rel/noapp", ["rel/e_0"], [])
app("dup", "1.0", ["e1"])
rel("dupmods", "dm", "5.0", [("e", "1.0"), ("dup", "1.0")])
case("err_duplicate_modules", "rel/dupmods", ["rel/e_0"], [])
app("needy", "1.0", ["nd1"], uses=["kernel", "absent"])
rel("undefapps", "ua", "5.0", [("needy", "1.0")])
case("err_undefined_applications", "rel/undefapps", ["rel/e_0"], [])
RELS["badrel"] = '{release,{"x","1"},[{kernel,"1.0"}]}.\n'
case("err_badly_formatted_release", "rel/badrel", ["rel/e_0"], [])
case("err_release_not_found", "rel/nosuchrel", ["rel/e_0"], [])
case("err_base_release_not_found", "rel/e_0", ["rel/nosuchrel"], [])

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

shutil.rmtree(ROOT, ignore_errors=True)
for (name, vsn), d in APPS.items():
    eb = os.path.join(ROOT, "lib", "%s-%s" % (name, vsn), "ebin")
    atoms = lambda l: "[" + ",".join(l) + "]"
    write(os.path.join(eb, name + ".app"),
          '{application,%s,\n [{description,"%s"},{vsn,"%s"},{modules,%s},{registered,%s},\n'
          '  {applications,%s},{included_applications,%s}]}.\n'
          % (name, name, d["appvsn"], atoms(d["mods"]), atoms(d["regs"]),
             atoms(d["uses"] or (["kernel", "stdlib"] if name not in ("kernel", "stdlib") else [])),
             atoms(d["incl"])))
    if d["appup"]:
        write(os.path.join(eb, name + ".appup"), d["appup"] + ("\n" if not d["appup"].endswith("\n") else ""))
for f, text in RELS.items():
    write(os.path.join(ROOT, "rel", f + ".rel"), text)
q = lambda l: "[" + ",".join('"%s"' % x for x in l) + "]"
with open(os.path.join(HERE, "cases.terms"), "w") as f:
    f.write("%% make-relup scenario matrix, written by gen_scenarios.py:\n"
            "%% {relup_case, Id, Dir, Top, UpFrom, DownTo, Path, ExtraOpts}.\n")
    for cid, top, ups, dns, paths, opts in CASES:
        f.write('{relup_case,%s,"main","%s",%s,%s,%s,[%s]}.\n'
                % (cid, top, q(ups), q(dns), q(paths), ",".join(opts)))
print(len(CASES), "cases,", len(APPS), "app versions,", len(RELS), "releases")
