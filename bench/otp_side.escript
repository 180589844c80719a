#!/usr/bin/env escript
%% bench/otp_side.escript - OTP's own tools on the benchmarks' work (the baseline knit is
%% measured against), and the relup comparison. Not a test.
%%   release CONFIG TARGET OUTDIR  reltool:create_target/2 from CONFIG's {sys, _} (run in the
%%                                 config's directory, as knit resolves lib_dirs), then
%%                                 systools:make_tar/2 of the target's release into OUTDIR
%%   relup REL OLDREL OUTDIR PATH...  systools:make_relup(REL, [OLDREL], [OLDREL], Opts)
%%   relup-tc N REL OLDREL OUTDIR PATH...  the same, N more times in this VM after one
%%                                 warm-up; prints the mean and σ in seconds
%%   compare RELUP1 RELUP2 DIR...  exit 0 when equal as terms; 1 when equal only modulo the
%%                                 order systools leaves free (modules in a load_object_code,
%%                                 loads in one dependency group) and both load every module
%%                                 after its appup dependencies (from DIR/*.appup; before
%%                                 them when downgrading); 2 otherwise (what differs is printed)

main(["release", Config, Target0, Out0]) ->
    Target = filename:absname(Target0),
    Out = filename:absname(Out0),
    ok = file:set_cwd(filename:dirname(filename:absname(Config))),
    {ok, Terms} = file:consult(filename:basename(Config)),
    {sys, Sys} = lists:keyfind(sys, 1, Terms),
    ok = filelib:ensure_dir(filename:join(Target, "x")),
    ok = filelib:ensure_dir(filename:join(Out, "x")),
    check(reltool:create_target([{config, {sys, Sys}}], Target)),
    {rel, Name, Vsn, _} = lists:keyfind(rel, 1, [R || R = {rel, N, _, _} <- Sys,
                                                      N =:= boot_rel(Sys)]),
    Rel = filename:join([Target, "releases", Vsn, Name]),
    Path = filelib:wildcard(filename:join([Target, "lib", "*", "ebin"])),
    check(systools:make_tar(Rel, [{erts, Target}, {path, Path}, {outdir, Out}, silent]));
main(["relup", Rel, Old, Out | Path]) ->
    check(systools:make_relup(Rel, [Old], [Old], [{path, Path}, {outdir, Out}, silent]));
main(["relup-tc", N, Rel, Old, Out | Path]) ->
    %% the same call N times in this VM: systools' own time without the VM start
    Opts = [{path, Path}, {outdir, Out}, silent],
    check(systools:make_relup(Rel, [Old], [Old], Opts)),
    Ts = [element(1, timer:tc(systools, make_relup, [Rel, [Old], [Old], Opts]))
          || _ <- lists:seq(1, list_to_integer(N))],
    Mean = lists:sum(Ts) / length(Ts),
    Sd = math:sqrt(lists:sum([(T - Mean) * (T - Mean) || T <- Ts]) / max(1, length(Ts) - 1)),
    io:format("~.3f ~.3f~n", [Mean / 1.0e6, Sd / 1.0e6]);
main(["compare", A, B | AppupDirs]) ->
    {ok, [TA]} = file:consult(A),
    {ok, [TB]} = file:consult(B),
    Deps = appup_deps(AppupDirs),
    Bad = [{F, M, D} || {F, T} <- [{A, TA}, {B, TB}], {M, D} <- dep_violations(T, Deps)],
    [io:format("~ts: ~p loads before its dependency ~p~n", [F, M, D]) || {F, M, D} <- Bad],
    if TA =:= TB, Bad =:= [] -> io:format("relups equal as terms~n");
       Bad =/= [] -> halt(2);
       true ->
           case norm(TA) =:= norm(TB) of
               true ->
                   io:format("relups equal modulo the free order of modules inside dependency "
                             "groups and load_object_code lists (~b appup dependencies, all "
                             "respected by both)~n", [length(Deps)]),
                   halt(1);
               false ->
                   first_diff(norm(TA), norm(TB)),
                   halt(2)
           end
    end;
main(_) ->
    io:format(standard_error, "usage: see the header of bench/otp_side.escript~n", []),
    halt(1).

boot_rel(Sys) ->
    {boot_rel, B} = lists:keyfind(boot_rel, 1, Sys),
    B.

check(ok) -> ok;
check({ok, _, []}) -> ok;
check({ok, _, _, []}) -> ok;
check({ok, _Mod, Warnings}) -> io:format(standard_error, "warnings: ~p~n", [Warnings]);
check({ok, _, _Mod, Warnings}) -> io:format(standard_error, "warnings: ~p~n", [Warnings]);
check(Other) ->
    io:format(standard_error, "failed: ~p~n", [Other]),
    halt(3).

%% systools leaves free the order of the modules of one load_object_code and of the loads of
%% one dependency group (a run of load instructions): sort both
norm({Vsn, Up, Down}) ->
    {Vsn, [{V, D, norm_instrs(I)} || {V, D, I} <- Up], [{V, D, norm_instrs(I)} || {V, D, I} <- Down]}.
norm_instrs(Is) ->
    runs([case I of
              {load_object_code, {App, AV, Mods}} -> {load_object_code, {App, AV, lists:sort(Mods)}};
              _ -> I
          end || I <- Is], []).
runs([I = {load, _} | Is], Run) -> runs(Is, [I | Run]);
runs([I | Is], Run) -> lists:sort(Run) ++ [I | runs(Is, [])];
runs([], Run) -> lists:sort(Run).

%% {Module, DependsOn} from the up instructions of every appup in the directories
appup_deps(Dirs) ->
    lists:usort(
      [{M, D} || Dir <- Dirs, F <- filelib:wildcard(filename:join(Dir, "*.appup")),
                 {ok, [{_, Ups, _}]} <- [file:consult(F)], {_, Is} <- Ups, I <- Is,
                 {M, Ds} <- [instr_deps(I)], D <- Ds]).
instr_deps({load_module, M, Ds}) -> {M, Ds};
instr_deps({load_module, M, _, _, Ds}) -> {M, Ds};
instr_deps({update, M, _, Ds}) when is_list(Ds) -> {M, Ds};
instr_deps({update, M, _, _, Ds}) when is_list(Ds) -> {M, Ds};
instr_deps({update, M, _, _, _, _, Ds}) -> {M, Ds};
instr_deps({update, M, _, _, _, _, _, Ds}) -> {M, Ds};
instr_deps(_) -> {none, []}.

%% in an up script a module loads after the modules it depends on, in a down script before
dep_violations({_, Up, Down}, Deps) ->
    [V || {_, _, Is} <- Up, V <- order_violations(Is, Deps)]
        ++ [V || {_, _, Is} <- Down, V <- order_violations(lists:reverse(Is), Deps)].
order_violations(Is, Deps) ->
    Pos = maps:from_list(lists:zip([M || {load, {M, _, _}} <- Is],
                                   lists:seq(1, length([x || {load, _} <- Is])))),
    [{M, D} || {M, D} <- Deps, is_map_key(M, Pos), is_map_key(D, Pos),
               maps:get(M, Pos) < maps:get(D, Pos)].

first_diff({VA, UA, DA}, {VB, UB, DB}) ->
    VA =:= VB orelse io:format("versions differ: ~p ~p~n", [VA, VB]),
    diff_scripts(up, UA, UB),
    diff_scripts(down, DA, DB).
diff_scripts(Dir, A, B) when length(A) =/= length(B) ->
    io:format("~p: ~b vs ~b scripts~n", [Dir, length(A), length(B)]);
diff_scripts(Dir, A, B) ->
    [diff_instrs(Dir, V, IA, IB, 1) || {{V, _, IA}, {_, _, IB}} <- lists:zip(A, B)].
diff_instrs(Dir, V, [I | A], [I | B], N) -> diff_instrs(Dir, V, A, B, N + 1);
diff_instrs(_, _, [], [], _) -> ok;
diff_instrs(Dir, V, A, B, N) ->
    io:format("~p from ~p: first difference at instruction ~b:~n  ~P~n  ~P~n",
              [Dir, V, N, hd_or(A), 30, hd_or(B), 30]).
hd_or([H | _]) -> H;
hd_or([]) -> '<end>'.
