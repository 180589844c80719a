#!/usr/bin/env escript
%% -*- erlang -*-
%% relup_diff.escript - differential test of `knit make-relup` against OTP's
%% systools:make_relup/4, and of knit's systools_rc port against systools_rc:translate_scripts/4,
%% all in one VM.
%%
%% usage: relup_diff.escript KNIT TOOL_RC CASES CORPUS OUTDIR
%%   CASES   tests/relup/cases.terms ({relup_case, Id, Dir, Top, Up, Down, Path, Opts}; Dir is
%%           relative to the directory of CASES)
%%   CORPUS  the external corpus (optional; may not exist): otp-systools/expected/make_relup_results.terms gives more
%%           cases (run live here too and checked against the stored OTP 25 results), and every
%%           .appup under appups/ and otp-systools/ is translated entry by entry by both sides.
%% Prints one line per case: "ok ID exact", "ok ID free-order", "ok ID error MOD:KIND" or
%% "FAIL ID: what differed", then "summary: ...".
-mode(compile).
-include_lib("sasl/src/systools.hrl").

main([Knit, ToolRc, CasesFile, Corpus, OutDir]) ->
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    {ok, Own} = file:consult(CasesFile),
    Base = filename:dirname(filename:absname(CasesFile)),
    OwnCases = [{Id, filename:join(Base, Dir), Top, Up, Dn, P, O, none}
                || {relup_case, Id, Dir, Top, Up, Dn, P, O} <- Own],
    %% the external corpus is optional: without it only the project's own cases run
    HaveCorpus = filelib:is_dir(filename:join(Corpus, "otp-systools")),
    HaveCorpus orelse io:format("skipped corpus: no ~ts/otp-systools (OTP's systools test "
                                "data, the LYSE release and the corpus appups)~n", [Corpus]),
    Sys = filename:join(Corpus, "otp-systools"),
    {ok, Stored} = case HaveCorpus of
                       true -> file:consult(filename:join(Sys, "expected/make_relup_results.terms"));
                       false -> {ok, []}
                   end,
    CorpusCases =
        [{list_to_atom("otp_" ++ atom_to_list(Id)), Sys, rel(T),
          [rel(R) || R <- proplists:get_value(up_from, P)],
          [rel(R) || R <- proplists:get_value(down_to, P)],
          proplists:get_value(path, P), proplists:get_value(extra_opts, P),
          {stored, proplists:get_value(result, P)}}
         || {relup_case, Id, P} <- Stored, T <- [proplists:get_value(top, P)]],
    Lyse = filename:join(Corpus, "appups/scenarios/lyse-processquest"),
    LyseCases = [{lyse_processquest, Lyse, "rel/processquest-1.1.0", ["rel/processquest-1.0.0"],
                  ["rel/processquest-1.0.0"], ["apps/*/ebin"], [], none} || HaveCorpus],
    Res = [run_case(Knit, OutDir, C) || C <- OwnCases ++ CorpusCases ++ LyseCases],
    AppupRes = appups(ToolRc, OutDir, Corpus, filename:dirname(Base)),
    All = Res ++ AppupRes,
    Count = fun(T) -> length([x || R <- All, element(1, R) =:= T]) end,
    io:format("summary: ~w relup cases (~w own, ~w OTP corpus, ~w LYSE); ~w appup files; "
              "exact ~w, free-order ~w, same-error ~w, failed ~w~n",
              [length(Res), length(OwnCases), length(CorpusCases), length(LyseCases),
               length(AppupRes), Count(exact), Count(free_order), Count(same_error),
               Count(fail)]).

rel(A) -> "rel/" ++ atom_to_list(A).

%% ---- make_relup cases ----

run_case(Knit, OutDir, {Id, Dir, Top, Up, Dn, Path, Opts, Stored}) ->
    {ok, Cwd} = file:get_cwd(),
    ok = file:set_cwd(Dir),
    Otp = try systools:make_relup(Top, Up, Dn, [{path, Path}, silent, noexec | Opts])
          catch C:E -> {exception, C, E} end,
    ok = file:set_cwd(Cwd),
    KOut = filename:join(OutDir, atom_to_list(Id)),
    os:cmd("rm -rf " ++ q(KOut)),
    ok = filelib:ensure_dir(filename:join(KOut, "x")),
    Cmd = "cd " ++ q(Dir) ++ " && " ++ q(Knit) ++ " make-relup " ++ q(Top)
        ++ flag("--up", Up) ++ flag("--down", Dn)
        ++ lists:append([" --path " ++ q(P) || P <- Path])
        ++ [" --restart-emulator" || lists:member(restart_emulator, Opts)]
        ++ [" --warnings-as-errors" || lists:member(warnings_as_errors, Opts)]
        ++ " --outdir " ++ q(KOut) ++ " 2>" ++ q(KOut ++ ".err") ++ "; echo $?",
    Exit = list_to_integer(string:trim(os:cmd(Cmd))),
    {ok, ErrBin} = file:read_file(KOut ++ ".err"),
    Err = unicode:characters_to_list(ErrBin),
    R = compare(Otp, Exit, Err, filename:join(KOut, "relup")),
    R2 = check_stored(Stored, Otp, R),
    report(Id, R2, Err),
    R2.

flag(_, []) -> "";
flag(F, L) -> " " ++ F ++ lists:append([" " ++ q(X) || X <- L]).

q(S) -> "'" ++ lists:flatten(string:replace(S, "'", "'\\''", all)) ++ "'".

compare({ok, Relup, _, Ws}, Exit, Err, File) ->
    WantW = [wkind(W) || W <- Ws],
    GotW = [list_to_atom(K) || L <- string:split(Err, "\n", all),
                               {match, [K]} <- [re:run(L, "^knit: warning: .*\\(([A-Za-z0-9_]+)\\)$",
                                                       [{capture, all_but_first, list}])]],
    case {Exit, file:consult(File)} of
        {0, {ok, [Relup]}} when GotW =:= WantW -> {exact};
        {0, {ok, [K]}} when GotW =:= WantW ->
            case norm(K) =:= norm(Relup) of
                true -> {free_order};
                false -> {fail, io_lib:format("relup differs~n  otp:  ~P~n  knit: ~P",
                                              [Relup, 60, K, 60])}
            end;
        {0, {ok, _}} -> {fail, io_lib:format("warnings differ: otp ~w, knit ~w", [WantW, GotW])};
        {0, Other} -> {fail, io_lib:format("knit's relup unreadable: ~p", [Other])};
        _ -> {fail, io_lib:format("otp succeeded, knit exited ~w: ~ts", [Exit, Err])}
    end;
compare(OtpErr, Exit, Err, File) ->
    {Mod, Kind} = otp_kind(OtpErr),
    WantExit = want_exit(OtpErr),
    Got = case re:run(Err, "\\((systools_[a-z]+): ([A-Za-z0-9_]+)\\)\\s*$",
                      [{capture, all_but_first, list}]) of
              {match, [M, K]} -> {list_to_atom(M), list_to_atom(K)};
              _ -> none
          end,
    Written = filelib:is_file(File),
    if Written -> {fail, "knit failed but wrote a relup"};
       Exit =/= WantExit ->
            {fail, io_lib:format("exit ~w, expected ~w (otp: ~w:~w): ~ts",
                                 [Exit, WantExit, Mod, Kind, Err])};
       Got =:= {Mod, Kind}; Mod =:= exception, element(2, Got) =:= Kind ->
            {same_error, Mod, Kind};
       true -> {fail, io_lib:format("otp error ~w:~w, knit: ~ts", [Mod, Kind, Err])}
    end.

check_stored(none, _, R) -> R;
check_stored({stored, {ok, Relup, _, _}}, {ok, Relup, _, _}, R) -> R;
check_stored({stored, {error, M, E}}, {error, M, E2}, R) ->
    case kind(E) =:= kind(E2) of true -> R; false -> {fail, "live OTP differs from stored"} end;
check_stored(_, _, _) -> {fail, "live OTP result differs from the stored OTP 25 result"}.

report(Id, {fail, Why}, _) -> io:format("FAIL ~w: ~ts~n", [Id, Why]);
report(Id, {same_error, M, K}, Err) ->
    io:format("ok ~w error ~w:~w~n", [Id, M, K]),
    io:format("   knit said: ~ts", [Err]);
report(Id, {T}, _) -> io:format("ok ~w ~w~n", [Id, T]).

wkind(W) when is_atom(W) -> W;
wkind(W) -> element(1, W).

otp_kind({error, Mod, Reason}) -> {Mod, kind(Reason)};
otp_kind({exception, _, Reason}) -> {exception, kind(Reason)}.

kind([H | _]) -> kind(H);
kind({error_reading, {_, W}}) -> kind(W);
kind({{K, _}, {application, _, _}}) -> K;
kind({'EXIT', R}) -> kind(R);
kind(T) when is_tuple(T), tuple_size(T) > 0 -> kind(element(1, T));
kind(A) when is_atom(A) -> A;
kind(_) -> other.

%% The exit code knit gives: 2 for files it cannot read or that are malformed, 127 otherwise.
want_exit({error, systools_make, R}) when is_list(R) ->
    case kind(R) of parse_error -> 2; _ -> 127 end;
want_exit({error, systools_make, R}) ->
    case kind(R) of
        K when K =:= not_found; K =:= parse; K =:= read; K =:= badly_formatted_release;
               K =:= illegal_name; K =:= illegal_form; K =:= illegal_applications;
               K =:= missing_mandatory_app; K =:= mandatory_app -> 2;
        _ -> 127
    end;
want_exit({error, systools_relup, {file_problem, {_, {error, {open, _, _}}}}}) -> 127;
want_exit({error, systools_relup, {file_problem, _}}) -> 2;
want_exit(_) -> 127.

%% norm - a relup with the order systools leaves to digraph hashing taken out: module lists
%% of suspend/resume/code_change/load_object_code sorted, runs of load/remove/purge sorted
norm({V, Up, Dn}) -> {V, [{F, D, norm_script(S)} || {F, D, S} <- Up],
                      [{F, D, norm_script(S)} || {F, D, S} <- Dn]}.

norm_script(S) -> runs([inner(I) || I <- S]).

inner({suspend, L}) -> {suspend, lists:sort(L)};
inner({resume, L}) -> {resume, lists:sort(L)};
inner({code_change, M, L}) -> {code_change, M, lists:sort(L)};
inner({load_object_code, {A, V, L}}) -> {load_object_code, {A, V, lists:sort(L)}};
inner(I) -> I.

runs([]) -> [];
runs([I | _] = S) ->
    case loadish(I) of
        true ->
            {Run, Rest} = lists:splitwith(fun loadish/1, S),
            lists:sort(Run) ++ runs(Rest);
        false -> [I | runs(tl(S))]
    end.

loadish({load, _}) -> true;
loadish({remove, _}) -> true;
loadish({purge, _}) -> true;
loadish(_) -> false.

%% ---- appups through systools_rc ----

%% the project's own appups (under tests/) always, the corpus's when it is there
appups(ToolRc, OutDir, Corpus, Tests) ->
    Files = lists:sort(filelib:wildcard(filename:join(Tests, "{relup,appup}/**/*.appup"))
                       ++ filelib:wildcard(filename:join(Corpus, "appups/**/*.appup*"))
                       ++ filelib:wildcard(filename:join(Corpus, "otp-systools/**/*.appup"))),
    Jobs = lists:append([jobs(F) || F <- Files]),
    JobFile = filename:join(OutDir, "rc_jobs.terms"),
    OutFile = filename:join(OutDir, "rc_results.terms"),
    ok = file:write_file(JobFile, unicode:characters_to_binary(
                                    ["%% coding: utf-8\n" | [io_lib:format("~tp.~n", [J]) || J <- Jobs]])),
    Ret = os:cmd(q(ToolRc) ++ " " ++ q(JobFile) ++ " " ++ q(OutFile) ++ " 2>&1"),
    Knit = case file:consult(OutFile) of
               {ok, L} -> maps:from_list(L);
               Err -> io:format("FAIL tool_rc: ~p ~ts~n", [Err, Ret]), #{}
           end,
    ByFile = lists:foldl(fun({JId, F, _, _, _, _} = J, M) ->
                                 maps:update_with(F, fun(L) -> [{JId, J} | L] end, [{JId, J}], M)
                         end, #{}, Jobs),
    [appup_file(F, lists:reverse(maps:get(F, ByFile, [])), Knit) || F <- Files,
                                                                  maps:is_key(F, ByFile)].

appup_file(F, Jobs, Knit) ->
    Rs = [{JId, rc_otp(J), maps:get(JId, Knit, missing)} || {JId, J} <- Jobs],
    Bad = [{JId, O, K} || {JId, O, K} <- Rs, not rc_same(O, K)],
    Name = filename:basename(F),
    Acc = length([x || {_, {ok, _}, _} <- Rs]),
    case Bad of
        [] ->
            io:format("ok appup ~ts: ~w entries (~w accepted, ~w rejected)~n",
                      [Name, length(Rs), Acc, length(Rs) - Acc]),
            {exact};
        [{JId, O, K} | _] ->
            io:format("FAIL appup ~ts entry ~w:~n  otp:  ~P~n  knit: ~P~n", [Name, JId, O, 40, K, 40]),
            {fail, x}
    end.

rc_same(X, X) -> true;
rc_same({ok, A}, {ok, B}) -> norm_script(A) =:= norm_script(B);
rc_same(_, _) -> false.

%% jobs - {Id, File, Mode, Index, Appls, PreAppls} for every {Vsn, Instrs} entry systools
%% would read from F (its first term); F is skipped when file:consult cannot read it
jobs(F) ->
    case file:consult(F) of
        {ok, [{_, Up, Dn} | _]} ->
            [job(F, Mode, I, Instrs)
             || {Mode, L} <- [{up, Up}, {dn, Dn}], is_list(L),
                {I, {_, Instrs}} <- lists:zip(lists:seq(1, length(L)), L)];
        _ -> []
    end.

job(F, Mode, I, Instrs) ->
    Atoms = lists:usort(atoms(Instrs)),
    Restart = [X || {restart_application, X} <- flat(Instrs), is_atom(X)],
    Added = [X || T <- flat(Instrs), is_tuple(T), tuple_size(T) >= 2,
                  element(1, T) =:= add_application, X <- [element(2, T)], is_atom(X)],
    Removed = [X || {remove_application, X} <- flat(Instrs), is_atom(X)],
    Main = {main_app, "1.0", permanent, Atoms},
    Extra = fun(Names) -> [{X, "1.0", permanent, []} || X <- lists:usort(Names)] end,
    Id = erlang:phash2({F, Mode, I}),
    {Id, F, Mode, I, [Main | Extra(Restart ++ Added)], [Main | Extra(Restart ++ Removed)]}.

atoms(A) when is_atom(A) -> [A];
atoms(L) when is_list(L) -> lists:append([atoms(X) || X <- flat(L)]);
atoms(T) when is_tuple(T) -> atoms(tuple_to_list(T));
atoms(_) -> [].

flat(L) when is_list(L) -> flat1(L);
flat(_) -> [].
flat1([H | T]) -> [H | flat1(T)];
flat1(_) -> [].

rc_otp({_, _, Mode, _, Appls, Pre} = J) ->
    Instrs = instrs(J),
    Rec = fun({N, V, T, M}) -> #application{name = N, vsn = V, type = T, modules = M} end,
    try systools_rc:translate_scripts(Mode, [Instrs], [Rec(A) || A <- Appls],
                                      [Rec(A) || A <- Pre]) of
        {ok, S} -> {ok, S};
        {error, systools_rc, R} -> {error, kind(R)}
    catch _:E -> {error, kind(E)}
    end.

instrs({_, F, Mode, I, _, _}) ->
    {ok, [{_, Up, Dn} | _]} = file:consult(F),
    {_, Instrs} = lists:nth(I, case Mode of up -> Up; dn -> Dn end),
    Instrs.
