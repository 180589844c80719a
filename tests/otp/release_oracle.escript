#!/usr/bin/env escript
%% tests/otp/release_oracle.escript - the OTP side of tests/t_release.sh, in one VM start.
%% Usage: release_oracle.escript JOB...  where JOB is one of
%%   reltool:CONFIG:TARGET    reltool:create_target/2 for CONFIG's {sys, ...} (run in CONFIG's
%%                            directory, so relative lib_dirs mean what they mean to knit)
%%   script:REL:LIBDIR:OUTDIR systools:make_script(REL, [{path, [LIBDIR/*/ebin]},
%%                            {outdir, OUTDIR}, silent]) (REL without .rel)
%%   stubs:CONFIG             create every lib_dir of CONFIG, and in the first one a stub
%%                            application (APP-0.1.0: .app + one compiled module) for each
%%                            application its rels or {app, ...} entries name that OTP lacks
%% Prints "ok JOB" or "error JOB: Reason" per job; exits 0 when every job succeeded.
main(Jobs) ->
    Results = [run(string:split(J, ":", all)) || J <- Jobs],
    halt(case lists:all(fun(R) -> R =:= ok end, Results) of true -> 0; false -> 1 end).

run(["reltool", Cfg, Target]) ->
    {ok, Cwd} = file:get_cwd(),
    ok = file:set_cwd(filename:dirname(Cfg)),
    {ok, [{sys, Sys} | _]} = file:consult(filename:basename(Cfg)),
    ok = filelib:ensure_dir(filename:join(Target, "x")),
    R = (catch reltool:create_target([{config, {sys, Sys}}], Target)),
    ok = file:set_cwd(Cwd),
    report("reltool " ++ Cfg, R);
run(["stubs", Cfg]) ->
    Dir = filename:dirname(Cfg),
    {ok, [{sys, Sys} | _]} = file:consult(Cfg),
    Libs = [filename:absname(L, Dir) || L <- proplists:get_value(lib_dirs, Sys, [])],
    [ok = filelib:ensure_path(L) || L <- Libs],
    RelApps = lists:append([[app_name(A) || A <- Apps] || {rel, _, _, Apps} <- Sys] ++
                           [[app_name(A) || A <- Apps] || {rel, _, _, Apps, _} <- Sys]),
    CfgApps = [A || {app, A, Opts} <- Sys, proplists:get_value(incl_cond, Opts) =/= exclude],
    Apps = lists:usort(RelApps ++ CfgApps) -- [erts],
    Missing = [A || A <- Apps, code:lib_dir(A) =:= {error, bad_name}],
    [stub(A, hd(Libs)) || A <- Missing],
    report("stubs " ++ Cfg, ok);
run(["script", Rel, LibDir, OutDir]) ->
    R = (catch systools:make_script(Rel, [{path, [LibDir ++ "/*/ebin"]}, {outdir, OutDir},
                                          silent])),
    report("script " ++ Rel, case R of {ok, _, _} -> ok; _ -> R end).

report(What, ok) -> io:format("ok ~ts~n", [What]), ok;
report(What, Other) -> io:format("error ~ts: ~tp~n", [What, Other]), error.

app_name(A) when is_atom(A) -> A;
app_name(T) when is_tuple(T) -> element(1, T).

%% stub - LIB/APP-0.1.0/ebin with APP.app and a module APP_stub that calls lists
stub(App, Lib) ->
    Ebin = filename:join([Lib, atom_to_list(App) ++ "-0.1.0", "ebin"]),
    ok = filelib:ensure_path(Ebin),
    Mod = list_to_atom(atom_to_list(App) ++ "_stub"),
    Forms = [{attribute, 1, module, Mod}, {attribute, 1, export, [{hello, 0}]},
             {function, 1, hello, 0,
              [{clause, 1, [], [], [{call, 1, {remote, 1, {atom, 1, lists}, {atom, 1, seq}},
                                     [{integer, 1, 1}, {integer, 1, 3}]}]}]}],
    {ok, Mod, Bin} = compile:forms(Forms, []),
    ok = file:write_file(filename:join(Ebin, atom_to_list(Mod) ++ ".beam"), Bin),
    AppTerm = {application, App, [{description, "stub"}, {vsn, "0.1.0"}, {modules, [Mod]},
                                  {registered, []}, {applications, [kernel, stdlib]}]},
    ok = file:write_file(filename:join(Ebin, atom_to_list(App) ++ ".app"),
                         io_lib:format("~tp.~n", [AppTerm])).
