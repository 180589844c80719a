#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/e2e/otp_rels.escript - the OTP side of the e2e fixture (no knit):
%%   build W E2E     for A, B, C (W/A/lib ... compiled by build.sh, appups already in the
%%                   new versions' ebin): W/rels/VSN/{e2e-VSN.rel, sys.config, e2e-VSN.boot,
%%                   relup} with systools:make_script/make_relup, and W/tars/e2e-VSN.tar.gz
%%                   with systools:make_tar (1.0.0 with ERTS)
%%   appup_equal F1 F2   exit 0 if the appups are equal up to the order of their
%%                   from-version entries, else print both and exit 1
%%   releases ROOT VSN   write ROOT/releases/RELEASES (release_handler:create_RELEASES)
%%   relup_equal F1 F2 APPUP...   exit 0 if relup F2 is equivalent to relup F1: the same
%%                   entries in any order, the same instructions except that the order of
%%                   consecutive loads and of module lists is free (SPEC: where systools
%%                   leaves an order free, any order valid for the dependencies is
%%                   acceptable; two systools runs differ there), and in F2 every Dep of
%%                   the APPUPs' instructions loads before its module (after it, down)
-mode(compile).

main(["build", W, E2E]) ->
    Vs = [{"A", []}, {"B", ["A"]}, {"C", ["A", "B"]}],
    AllPath = [filename:join([W, X, "lib", "*", "ebin"]) || {X, _} <- Vs],
    Rels = [{X, rel(W, E2E, X)} || {X, _} <- Vs],
    lists:foreach(
      fun({X, From}) ->
              {_Vsn, RelDir, Base} = proplists:get_value(X, Rels),
              Path = [filename:join([W, X, "lib", "*", "ebin"])],
              %% systools looks for relup, sys.config and the boot file in cwd too
              ok = file:set_cwd(RelDir),
              check(X, make_script,
                    systools:make_script(Base, [{path, Path}, silent, no_dot_erlang])),
              Olds = [begin {_, D, B} = proplists:get_value(F, Rels), filename:join(D, B) end
                      || F <- From],
              From =:= [] orelse
                  check(X, make_relup,
                        systools:make_relup(Base, Olds, Olds, [{path, AllPath}, silent])),
              Erts = case From of [] -> [{erts, code:root_dir()}]; _ -> [] end,
              Tars = filename:join(W, "tars"),
              ok = filelib:ensure_dir(filename:join(Tars, "x")),
              check(X, make_tar,
                    systools:make_tar(Base, [{path, Path}, {outdir, Tars}, silent] ++ Erts)),
              io:format("~s: ~s built~n", [X, Base])
      end, Vs);
main(["appup_equal", F1, F2]) ->
    {ok, [{V1, U1, D1} = A1]} = file:consult(F1),
    case file:consult(F2) of
        {ok, [{V1, U2, D2}]} when length(U1) =:= length(U2), length(D1) =:= length(D2) ->
            case {lists:sort(U1), lists:sort(D1)} =:= {lists:sort(U2), lists:sort(D2)} of
                true -> ok;
                false -> appup_differs(F1, A1, F2)
            end;
        _ -> appup_differs(F1, A1, F2)
    end;
main(["releases", Root, Vsn]) ->
    RelDir = filename:join(Root, "releases"),
    RelFile = filename:join([RelDir, Vsn, "e2e-" ++ Vsn ++ ".rel"]),
    ok = release_handler:create_RELEASES(Root, RelDir, RelFile, []);
main(["relup_equal", F1, F2 | Appups]) ->
    {ok, [R1]} = file:consult(F1),
    {ok, [R2]} = file:consult(F2),
    case norm(R1) =:= norm(R2) of
        true -> ok;
        false ->
            io:format("~ts:~n~p~n~ts:~n~p~n", [F1, R1, F2, R2]),
            halt(1)
    end,
    Bad = [{Dir, From, M, D} || A <- Appups, {ok, [{_, Ups, Downs}]} <- [file:consult(A)],
                                {Dir, Es} <- [{up, Ups}, {down, Downs}],
                                {From, Is} <- Es, {M, Deps} <- deps(Is), D <- Deps,
                                not dep_ok(Dir, R2, From, M, D)],
    case Bad of
        [] -> ok;
        _ ->
            [io:format("~ts: ~s from ~s: ~s does not load ~s its dependency ~s~n",
                       [F2, Dir, From, M, case Dir of up -> "after"; down -> "before" end, D])
             || {Dir, From, M, D} <- Bad],
            halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: otp_rels.escript build W E2E | releases ROOT VSN | "
              "relup_equal F1 F2~n", []),
    halt(1).

appup_differs(F1, A1, F2) ->
    io:format("~ts:~n~p~n~ts:~n~p~n", [F1, A1, F2, file:consult(F2)]),
    halt(1).

norm({Vsn, Up, Down}) ->
    N = fun(Es) -> lists:sort([{V, D, norm_is(Is)} || {V, D, Is} <- Es]) end,
    {Vsn, N(Up), N(Down)}.

%% consecutive loads sorted; module lists sorted
norm_is([]) -> [];
norm_is(Is = [{load, _} | _]) ->
    {Loads, Rest} = lists:splitwith(fun(I) -> element(1, I) =:= load end, Is),
    lists:sort(Loads) ++ norm_is(Rest);
norm_is([{load_object_code, {A, V, Ms}} | Is]) -> [{load_object_code, {A, V, lists:sort(Ms)}} | norm_is(Is)];
norm_is([{Op, Ms} | Is]) when Op =:= suspend; Op =:= resume; Op =:= purge; Op =:= stop;
                             Op =:= start ->
    [{Op, lists:sort(Ms)} | norm_is(Is)];
norm_is([{code_change, Mode, Ms} | Is]) -> [{code_change, Mode, lists:sort(Ms)} | norm_is(Is)];
norm_is([I | Is]) -> [I | norm_is(Is)].

deps(Is) ->
    [{M, Deps} || I <- Is,
                  {M, Deps} <- case I of
                                   {load_module, M, _, _, Ds} -> [{M, Ds}];
                                   {update, M, _, _, _, _, _, Ds} -> [{M, Ds}];
                                   _ -> []
                               end, Deps =/= []].

dep_ok(Dir, {_, Ups, Downs}, From, M, D) ->
    Es = case Dir of up -> Ups; down -> Downs end,
    case lists:keyfind(From, 1, Es) of
        {_, _, Is} ->
            Pos = fun(X) -> length(lists:takewhile(fun({load, {Y, _, _}}) -> Y =/= X;
                                                        (_) -> true end, Is)) end,
            case Dir of up -> Pos(D) < Pos(M); down -> Pos(M) < Pos(D) end;
        false -> true
    end.

check(_, _, ok) -> ok;
check(X, What, {ok, Mod, Warnings}) -> warn(X, What, Mod, Warnings);
check(X, What, {ok, _Relup, Mod, Warnings}) -> warn(X, What, Mod, Warnings);
check(X, What, Other) ->
    io:format(standard_error, "~s: systools:~s failed: ~p~n", [X, What, Other]),
    halt(1).

warn(_, _, _, []) -> ok;
warn(X, What, Mod, Ws) ->
    [io:format(standard_error, "~s: systools:~s: warning: ~ts~n", [X, What, Mod:format_warning(W)])
     || W <- Ws],
    ok.

%% rel(W, E2E, X) - write W/rels/VSN/e2e-VSN.rel and sys.config from E2E/X/reltool.config;
%% returns {Vsn, RelDir, "e2e-VSN"}
rel(W, E2E, X) ->
    {ok, Conf} = file:consult(filename:join([E2E, X, "reltool.config"])),
    {sys, Sys} = lists:keyfind(sys, 1, Conf),
    {rel, Name, Vsn, Apps} = lists:keyfind("e2e", 2, [R || R = {rel, _, _, _} <- Sys]),
    Lib = filename:join(W, X ++ "/lib"),
    Avs = [{A, app_vsn(Lib, A)} || A <- Apps],
    RelDir = filename:join([W, "rels", Vsn]),
    Base = Name ++ "-" ++ Vsn,
    ok = filelib:ensure_dir(filename:join(RelDir, "x")),
    Rel = {release, {Name, Vsn}, {erts, erlang:system_info(version)}, Avs},
    ok = file:write_file(filename:join(RelDir, Base ++ ".rel"), io_lib:format("~p.~n", [Rel])),
    {ok, Tmpl} = file:read_file(filename:join([E2E, X, "files", "sys.config"])),
    Sysc = binary:replace(Tmpl, <<"{{rel_vsn}}">>, list_to_binary(Vsn), [global]),
    ok = file:write_file(filename:join(RelDir, "sys.config"), Sysc),
    {Vsn, RelDir, Base}.

app_vsn(Lib, A) ->
    case filelib:wildcard(filename:join([Lib, atom_to_list(A) ++ "-*", "ebin", atom_to_list(A) ++ ".app"])) of
        [F] ->
            {ok, [{application, A, Props}]} = file:consult(F),
            proplists:get_value(vsn, Props);
        [] ->
            _ = application:load(A),
            {ok, V} = application:get_key(A, vsn),
            V
    end.
