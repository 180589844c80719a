#!/usr/bin/env escript
%% -*- erlang -*-
%% patch_diff.escript - differential test of knit's hot-patch planning against OTP.
%%
%% usage: patch_diff.escript TOOL_PATCH OUTDIR SRC...
%%   Each SRC holds version directories of *.erl (v1, v2, ...), compiled here with
%%   debug_info into OUTDIR/N/VSN. For every ordered pair (Old, New) of versions of one SRC,
%%   TOOL_PATCH (tests/tool_patch.c) plans the patch of New's beams onto a node where Old's
%%   modules are loaded. OTP then checks the plan:
%%   - the modules in it are those whose beam_lib:md5 differs or that Old lacks;
%%   - each one's instruction is of the kind OTP's facts give: add_module when Old lacks it,
%%     update static for a supervisor behaviour, update dynamic when it exports code_change,
%%     load_module otherwise;
%%   - the low-level script is systools_rc:translate_scripts(up, [High],
%%     [#application{name = knit_patch, vsn = PatchId, modules = Mods}], []): exactly, or
%%     with the order systools leaves to digraph hashing taken out (module lists sorted, runs
%%     of load/remove/purge sorted: "free-order") and then every module loaded after each of
%%     its dependencies (the Deps of its instruction) that the script also loads.
%%   A job without add must fail exactly when New has a module Old lacks.
%% Prints "ok ID exact|free-order|refused" or "FAIL ID: what differed" per job, then "summary: N jobs, F failed".
-mode(compile).
-include_lib("sasl/src/systools.hrl").

main([Tool, Out | Srcs]) ->
    Sets = [compile_set(S, filename:join(Out, integer_to_list(I)))
            || {I, S} <- lists:zip(lists:seq(1, length(Srcs)), Srcs)],
    Jobs = [{list_to_atom(lists:flatten(io_lib:format("~s_~s_~s_~w",
                                                      [filename:basename(S), O, N, Add]))),
             filename:join(D, N), filename:join(D, O), Add}
            || {S, D, Vsns} <- Sets, O <- Vsns, N <- Vsns, O =/= N, Add <- [true, false]],
    JobFile = filename:join(Out, "jobs"),
    ResFile = filename:join(Out, "results"),
    ok = file:write_file(JobFile, [io_lib:format("~p.~n", [J]) || J <- Jobs]),
    Cmd = Tool ++ " " ++ JobFile ++ " " ++ ResFile ++ " 2>&1; echo rc=$?",
    io:format("tool: ~s", [os:cmd(Cmd)]),
    {ok, Res} = file:consult(ResFile),
    Outcomes = [check(J, proplists:get_value(element(1, J), Res)) || J <- Jobs],
    Failed = length([x || fail <- Outcomes]),
    io:format("summary: ~w jobs, ~w failed~n", [length(Jobs), Failed]),
    halt(case Failed of 0 -> 0; _ -> 1 end).

compile_set(Src, Out) ->
    Vsns = lists:sort([filename:basename(D) || D <- filelib:wildcard(filename:join(Src, "v*")),
                                               filelib:is_dir(D)]),
    lists:foreach(
      fun(V) ->
              O = filename:join(Out, V),
              ok = filelib:ensure_dir(filename:join(O, "x")),
              [{ok, _} = compile:file(F, [debug_info, {outdir, O}, return_errors])
               || F <- filelib:wildcard(filename:join([Src, V, "*.erl"]))]
      end, Vsns),
    {Src, Out, Vsns}.

%% facts - Mod => {Md5, Kind} for the beams of DIR, as OTP sees them
facts(Dir) ->
    maps:from_list(
      [begin
           {ok, {M, Md5}} = beam_lib:md5(F),
           {ok, {M, [{attributes, Attrs}, {exports, Exps}]}} =
               beam_lib:chunks(F, [attributes, exports]),
           Behs = lists:append([V || {K, V} <- Attrs, K =:= behaviour orelse K =:= behavior]),
           Kind = case {lists:member(supervisor, Behs),
                        lists:keymember(code_change, 1, Exps)} of
                      {true, _} -> static;
                      {_, true} -> dynamic;
                      _ -> load_module
                  end,
           {M, {Md5, Kind}}
       end || F <- filelib:wildcard(filename:join(Dir, "*.beam"))]).

check({Id, New, Old, Add}, Got) ->
    NF = facts(New),
    OF = facts(Old),
    Want = lists:sort([M || {M, {Md5, _}} <- maps:to_list(NF),
                            case maps:find(M, OF) of
                                {ok, {Md5, _}} -> false;
                                _ -> true
                            end]),
    Missing = [M || M <- Want, not maps:is_key(M, OF)],
    case {Got, Add, Missing} of
        {{error, _}, false, [_ | _]} -> ok(Id, refused);
        {{error, Msg}, _, _} -> fail(Id, "knit failed: ~s", [Msg]);
        {{ok, _, _, _, _}, false, [_ | _]} -> fail(Id, "knit accepted modules not loaded: ~p",
                                                   [Missing]);
        {{ok, PatchId, Mods, High, Low}, _, _} ->
            Kinds = [{M, kind(M, High)} || M <- Mods],
            WantKinds = [{M, case maps:is_key(M, OF) of
                                 false -> add_module;
                                 true -> element(2, maps:get(M, NF))
                             end} || M <- Want],
            App = #application{name = knit_patch, vsn = PatchId, modules = Mods},
            Otp = systools_rc:translate_scripts(up, [High], [App], []),
            if Mods =/= Want -> fail(Id, "modules ~p, OTP's md5s say ~p", [Mods, Want]);
               Kinds =/= WantKinds -> fail(Id, "kinds ~p, OTP's facts say ~p",
                                           [Kinds, WantKinds]);
               Otp =:= {ok, Low} -> ok(Id, exact);
               Low =:= [], Mods =:= [] -> ok(Id, exact);
               element(1, Otp) =/= ok ->
                    fail(Id, "OTP refused knit's instructions: ~p", [Otp]);
               true ->
                    {ok, OtpLow} = Otp,
                    case {norm(Low) =:= norm(OtpLow), bad_order(High, Low)} of
                        {true, []} -> ok(Id, 'free-order');
                        {true, Bad} -> fail(Id, "loaded before a dependency: ~p", [Bad]);
                        {false, _} ->
                            fail(Id, "low-level script differs~n  knit: ~p~n  OTP:  ~p",
                                 [Low, OtpLow])
                    end
            end;
        {undefined, _, _} -> fail(Id, "no result from the tool", [])
    end.

kind(M, High) ->
    case [I || I <- High, element(2, I) =:= M, element(1, I) =/= apply] of
        [{add_module, M}] -> add_module;
        [{update, M, Type, _, _, _, _, _}] -> Type;
        [{load_module, M, _, _, _}] -> load_module;
        Other -> {unexpected, Other}
    end.

%% norm - the order systools leaves free taken out (as tests/otp/relup_diff.escript does)
norm(S) -> runs([inner(I) || I <- S]).

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

%% bad_order - {Mod, Dep} for every Dep of Mod's instruction loaded after Mod in LOW
bad_order(High, Low) ->
    Loads = [M || {load, {M, _, _}} <- Low],
    Pos = maps:from_list(lists:zip(Loads, lists:seq(1, length(Loads)))),
    [{M, D} || I <- High, {M, Deps} <- [deps(I)], D <- Deps,
               maps:is_key(M, Pos), maps:is_key(D, Pos),
               maps:get(D, Pos) > maps:get(M, Pos)].

deps({update, M, _, _, _, _, _, Deps}) -> {M, Deps};
deps({load_module, M, _, _, Deps}) -> {M, Deps};
deps(_) -> {none, []}.

ok(Id, How) -> io:format("ok ~s ~s~n", [Id, How]), ok.
fail(Id, Fmt, Args) -> io:format("FAIL ~s: " ++ Fmt ++ "~n", [Id | Args]), fail.
