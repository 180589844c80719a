#!/usr/bin/env escript
%% -*- erlang -*-
%% relup_check.escript - the OTP side of tests/t_appup.sh, in one VM: build application ka at
%% 1.0, 2.0 and 3.0 from tests/appup/v1..v3 (with .app files and one .rel per version), have
%% tool_appup (knit's appup_generate) write ka-2.0's and ka-3.0's appups, then check that
%% file:consult reads each appup back to the term knit generated (term_to_binary equal), that
%% systools:make_relup/4 accepts them, and that `knit make-relup` builds the same relup.
%%
%% usage: relup_check.escript TOOL_APPUP KNIT FIXTURES OUTDIR
%% (also compiles each FIXTURES/bad/NAME.erl into OUTDIR/bad/NAME/ for the shell test)
%% Prints "ok WHAT" or "FAIL WHAT" (details indented on the lines after) per check.
-mode(compile).

main([Tool, Knit, Src, Out]) ->
    Lib = filename:join(Out, "lib"),
    Rel = filename:join(Out, "rel"),
    Vsns = [{"v1", "1.0"}, {"v2", "2.0"}, {"v3", "3.0"}],
    [build_app(filename:join(Src, D), Lib, V) || {D, V} <- Vsns],
    %% the broken modules too, one ebin each, for the shell test's exit-code checks
    [{ok, _} = compile:file(F, [{outdir, filelib:ensure_dir(filename:join(O, "x")) =:= ok
                                          andalso O}])
     || F <- filelib:wildcard(filename:join([Src, "bad", "*.erl"])),
        O <- [filename:join([Out, "bad", filename:basename(F, ".erl")])]],
    ok = filelib:ensure_dir(filename:join(Rel, "x")),
    [write_rel(Rel, V) || {_, V} <- Vsns],
    Ebin = fun(V) -> filename:join([Lib, "ka-" ++ V, "ebin"]) end,
    Gen = fun(Flags, V, Froms) ->
                  Appup = filename:join(Ebin(V), "ka.appup"),
                  Cmd = q(Tool) ++ Flags ++ " ka " ++ q(V) ++ " " ++ q(Ebin(V)) ++ " "
                      ++ q(Appup) ++ lists:append([" " ++ q(F) ++ " " ++ q(Ebin(F))
                                                   || F <- Froms]),
                  run(Cmd, "tool_appup writes the appup of ka " ++ V ++ Flags),
                  consult_check(Appup, V ++ Flags)
          end,
    Gen("", "2.0", ["1.0"]),
    Gen("", "3.0", ["2.0", "1.0"]),
    relup(Knit, Out, Rel, Lib, "ka_2.0", ["ka_1.0"]),
    relup(Knit, Out, Rel, Lib, "ka_3.0", ["ka_1.0", "ka_2.0"]),
    Gen(" --no-auto-depends", "3.0", ["2.0", "1.0"]),
    relup(Knit, Out, Rel, Lib, "ka_3.0", ["ka_2.0", "ka_1.0"]),
    io:format("done~n").

build_app(SrcDir, Lib, Vsn) ->
    Ebin = filename:join([Lib, "ka-" ++ Vsn, "ebin"]),
    ok = filelib:ensure_dir(filename:join(Ebin, "x")),
    Files = filelib:wildcard(filename:join(SrcDir, "*.erl")),
    Mods = [begin {ok, M} = compile:file(F, [debug_info, {outdir, Ebin}]), M end
            || F <- Files],
    App = {application, ka, [{description, "knit appup test"}, {vsn, Vsn},
                             {modules, lists:sort(Mods)}, {registered, []},
                             {applications, [kernel, stdlib]}]},
    ok = file:write_file(filename:join(Ebin, "ka.app"), io_lib:format("~tp.~n", [App])).

write_rel(Dir, Vsn) ->
    AppVsn = fun(A) -> ok = case application:load(A) of
                                ok -> ok; {error, {already_loaded, _}} -> ok end,
                       {ok, V} = application:get_key(A, vsn), V end,
    R = {release, {"ka", Vsn}, {erts, erlang:system_info(version)},
         [{kernel, AppVsn(kernel)}, {stdlib, AppVsn(stdlib)}, {sasl, AppVsn(sasl)},
          {ka, Vsn}]},
    ok = file:write_file(filename:join(Dir, "ka_" ++ Vsn ++ ".rel"),
                         io_lib:format("~tp.~n", [R])).

consult_check(Appup, What) ->
    {ok, Etf} = file:read_file(Appup ++ ".etf"),
    case file:consult(Appup) of
        {ok, [T]} when is_tuple(T), tuple_size(T) =:= 3 ->
            case term_to_binary(T) =:= Etf of
                true -> ok("file:consult reads the appup of " ++ What ++ " back to knit's term");
                false -> fail("appup of " ++ What ++ " reads back differently",
                              io_lib:format("consulted ~tp~nknit      ~tp",
                                            [T, binary_to_term(Etf)]))
            end;
        Other -> fail("file:consult of the appup of " ++ What, io_lib:format("~tp", [Other]))
    end.

relup(Knit, Out, Rel, Lib, Top, Froms) ->
    What = Top ++ " from " ++ string:join(Froms, ", "),
    RelP = fun(N) -> filename:join(Rel, N) end,
    Path = [filename:join([Lib, "*", "ebin"])],
    SysDir = filename:join([Out, "systools", Top ++ "-" ++ string:join(Froms, "-")]),
    ok = filelib:ensure_dir(filename:join(SysDir, "x")),
    Ups = [RelP(F) || F <- Froms],
    case systools:make_relup(RelP(Top), Ups, Ups, [{path, Path}, {outdir, SysDir}, silent]) of
        {ok, Relup, _, Ws} ->
            ok("systools:make_relup accepts the generated appups: " ++ What),
            KDir = filename:join([Out, "knit", Top ++ "-" ++ string:join(Froms, "-")]),
            ok = filelib:ensure_dir(filename:join(KDir, "x")),
            Cmd = q(Knit) ++ " make-relup " ++ q(RelP(Top)) ++ " --up" ++ qs(Ups)
                ++ " --down" ++ qs(Ups) ++ " --path " ++ q(hd(Path)) ++ " --outdir " ++ q(KDir),
            run(Cmd, "knit make-relup " ++ What),
            case file:consult(filename:join(KDir, "relup")) of
                {ok, [Relup]} ->
                    ok("knit make-relup builds systools' relup exactly: " ++ What);
                {ok, [K]} ->
                    Appup = filename:join([Lib, "ka-" ++ element(1, Relup), "ebin", "ka.appup"]),
                    case {norm(K) =:= norm(Relup), dep_order(K, Appup)} of
                        {true, []} ->
                            ok("knit make-relup builds systools' relup but for the order of "
                               "loads within a dependency group, which keeps the Deps: "
                               ++ What);
                        {Same, Bad} ->
                            fail("knit's relup differs from systools': " ++ What,
                                 io_lib:format("same but for free order: ~w; Deps broken: ~w~n"
                                               "knit~n~tp~nsystools~n~tp", [Same, Bad, K, Relup]))
                    end;
                Other -> fail("knit's relup unreadable: " ++ What, io_lib:format("~tp", [Other]))
            end,
            SysAppup = filename:join([Lib, "ka-" ++ element(1, Relup), "ebin", "ka.appup"]),
            {ok, [{_, AUp, _}]} = file:consult(SysAppup),
            HasDeps = lists:any(fun(I) -> is_tuple(I) andalso element(1, I) =/= apply andalso
                                              is_list(element(tuple_size(I), I)) andalso
                                              element(tuple_size(I), I) =/= [] end,
                                lists:append([Is || {_, Is} <- AUp])),
            case {dep_order(Relup, SysAppup), dep_order(reverse_runs(Relup), SysAppup)} of
                {[], _} when not HasDeps -> ok;
                {[], [_ | _]} -> ok("the Deps check passes systools' relup and catches it "
                                    "with each load group reversed: " ++ What);
                Dc -> fail("the Deps check is not trustworthy: " ++ What,
                           io_lib:format("~tp", [Dc]))
            end,
            Ws =:= [] orelse io:format("  systools warnings: ~tp~n", [Ws]);
        Err ->
            fail("systools:make_relup rejects the generated appups: " ++ What,
                 io_lib:format("~tp", [Err]))
    end.

%% norm - a relup with the orders systools leaves free fixed: the module lists of suspend,
%% resume, code_change and load_object_code, and each run of load/remove/purge instructions
%% (one dependency group) as a multiset; whether the order kept the Deps is dep_order/3's job
norm({V, Up, Dn}) ->
    {V, [{F, D, norm_script(S)} || {F, D, S} <- Up], [{F, D, norm_script(S)} || {F, D, S} <- Dn]}.
norm_script(S) -> group(S, []).
group([I | Is], Run) when element(1, I) =:= load; element(1, I) =:= remove;
                          element(1, I) =:= purge ->
    group(Is, [I | Run]);
group(Is, Run) when Run =/= [] -> [{run, lists:sort(Run)} | group(Is, [])];
group([I | Is], []) -> [norm_instr(I) | group(Is, [])];
group([], []) -> [].
norm_instr({suspend, L}) -> {suspend, lists:sort(L)};
norm_instr({resume, L}) -> {resume, lists:sort(L)};
norm_instr({code_change, M, L}) -> {code_change, M, lists:sort(L)};
norm_instr({load_object_code, {A, V, L}}) -> {load_object_code, {A, V, lists:sort(L)}};
norm_instr(I) -> I.

%% dep_order - the Deps of the appup APPUP (file) hold in RELUP: on the way up a module's
%% dependencies are loaded (or removed) before it, on the way down after it; [] or the
%% violations as {Direction, FromVsn, Mod, Dep}
dep_order({_, Up, Dn}, Appup) ->
    {ok, [{_, AUp, ADn}]} = file:consult(Appup),
    check_deps(up, Up, AUp) ++ check_deps(down, Dn, ADn).
check_deps(Dir, Scripts, Entries) ->
    [{Dir, F, M, D}
     || {F, _, S} <- Scripts, {F2, Instrs} <- Entries, F2 =:= F,
        I <- Instrs, is_tuple(I), element(1, I) =:= update orelse element(1, I) =:= load_module,
        M <- [element(2, I)], D <- element(tuple_size(I), I),
        not ordered(Dir, pos(M, S), pos(D, S))].
ordered(_, none, _) -> true;
ordered(_, _, none) -> true;
ordered(up, PM, PD) -> PD < PM;
ordered(down, PM, PD) -> PM < PD.
pos(M, S) -> pos(M, S, 1).
reverse_runs({V, Up, Dn}) ->
    R = fun(S) -> lists:append([case I of {run, L} -> lists:reverse(L); _ -> [I] end
                                || I <- group_raw(S, [])]) end,
    {V, [{F, D, R(S)} || {F, D, S} <- Up], [{F, D, R(S)} || {F, D, S} <- Dn]}.
group_raw([I | Is], Run) when element(1, I) =:= load; element(1, I) =:= remove;
                              element(1, I) =:= purge ->
    group_raw(Is, [I | Run]);
group_raw(Is, Run) when Run =/= [] -> [{run, lists:reverse(Run)} | group_raw(Is, [])];
group_raw([I | Is], []) -> [I | group_raw(Is, [])];
group_raw([], []) -> [].
pos(_, [], _) -> none;
pos(M, [{Op, {M, _, _}} | _], N) when Op =:= load; Op =:= remove -> N;
pos(M, [_ | S], N) -> pos(M, S, N + 1).

run(Cmd, What) ->
    Res = os:cmd(Cmd ++ " 2>&1; echo \"exit=$?\""),
    case lists:suffix("exit=0\n", Res) of
        true -> ok(What);
        false -> fail(What, Cmd ++ "\n" ++ Res)
    end.

q(S) -> "'" ++ lists:flatten(string:replace(S, "'", "'\\''", all)) ++ "'".
qs(L) -> lists:append([" " ++ q(X) || X <- L]).
ok(What) -> io:format("ok ~ts~n", [What]).
fail(What, Details) ->
    io:format("FAIL ~ts~n", [What]),
    [io:format("  ~ts~n", [L]) || L <- string:split(lists:flatten(Details), "\n", all)].
