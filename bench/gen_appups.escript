#!/usr/bin/env escript
%% bench/gen_appups.escript - generate a release pair for relup compilation alone: .rel, .app
%% and hand-written .appup files, no sources and no beams (neither systools:make_relup nor
%% `knit make-relup` reads a beam). Not a test.
%%
%% usage: bench/gen_appups.escript [-a APPS] [-m MODS] OUTDIR
%%   APPS applications (default 100) of MODS modules each (default 50, at least 4): MODS-2
%%   plain modules m00001.., a gen_server _srv and a supervisor _sup. Version 2.0.0 of every
%%   application changes every module; its appup (up and down from 1.0.0) gives each plain
%%   module, in turn, {load_module, M}, {load_module, M, [Prev]} and
%%   {update, M, {advanced, []}, [Prev]} (Prev: the plain module before it), then
%%   {update, _srv, {advanced, []}, []} and {update, _sup, supervisor}. Every dependency
%%   group is a chain (of up to three modules), so the relup has one valid order and
%%   knit's and systools' must be the same bytes (systools orders unrelated modules of one
%%   group by its digraph's hashing).
%% Writes, under OUTDIR (V = 1, 2):
%%   lib-vV/APP-V.0.0/ebin/APP.app (and APP.appup in v2)
%%   rel/synth-V.rel   ERTS, kernel, stdlib, sasl of the erl running this, and the APPS
%% A pair already generated with the same APPS and MODS is kept.

-mode(compile).

main(Args) ->
    {A, M, Out0} = parse(Args, 100, 50),
    (A >= 1 andalso M >= 4) orelse usage(),
    Out = filename:absname(Out0),
    Stamp = filename:join(Out, lists:flatten(io_lib:format(".done-~b-~b", [A, M]))),
    case filelib:is_file(Stamp) of
        true -> ok;
        false ->
            [ok = file:del_dir_r(D) || D <- [filename:join(Out, "lib-v1"),
                                             filename:join(Out, "lib-v2")], filelib:is_dir(D)],
            Otp = otp_vsns(),
            Apps = [app(I) || I <- lists:seq(1, A)],
            [gen_app(Out, I, M, V) || I <- lists:seq(1, A), V <- [1, 2]],
            Rel = filename:join(Out, "rel"),
            ok = filelib:ensure_dir(filename:join(Rel, "x")),
            [write_terms(filename:join(Rel, "synth-" ++ integer_to_list(V) ++ ".rel"),
                         [{release, {"synth", integer_to_list(V)},
                           {erts, erlang:system_info(version)},
                           Otp ++ [{Ap, avsn(V)} || Ap <- Apps]}]) || V <- [1, 2]],
            ok = file:write_file(Stamp, "")
    end,
    io:format("~ts: ~b apps x ~b modules, every module changed~n", [Out, A, M]).

parse(["-a", N | T], _, M) -> parse(T, int(N), M);
parse(["-m", N | T], A, _) -> parse(T, A, int(N));
parse([Out], A, M) when hd(Out) =/= $- -> {A, M, Out};
parse(_, _, _) -> usage().

int(S) -> try list_to_integer(S) catch error:badarg -> usage() end.

usage() ->
    io:format(standard_error, "usage: gen_appups.escript [-a APPS] [-m MODS] OUTDIR~n", []),
    halt(1).

app(I) -> list_to_atom(lists:flatten(io_lib:format("app~4..0b", [I]))).
mod(I, S) -> list_to_atom(atom_to_list(app(I)) ++ "_" ++ S).
plain(I, J) -> mod(I, lists:flatten(io_lib:format("m~5..0b", [J]))).
avsn(V) -> integer_to_list(V) ++ ".0.0".

gen_app(Out, I, M, V) ->
    Ebin = filename:join([Out, "lib-v" ++ integer_to_list(V),
                          atom_to_list(app(I)) ++ "-" ++ avsn(V), "ebin"]),
    ok = filelib:ensure_dir(filename:join(Ebin, "x")),
    P = M - 2,
    Mods = [plain(I, J) || J <- lists:seq(1, P)] ++ [mod(I, "srv"), mod(I, "sup")],
    write_terms(filename:join(Ebin, atom_to_list(app(I)) ++ ".app"),
                [{application, app(I),
                  [{description, "synthetic"}, {vsn, avsn(V)}, {modules, Mods},
                   {registered, [mod(I, "srv"), mod(I, "sup")]},
                   {applications, [kernel, stdlib]}]}]),
    V =:= 2 andalso
        write_terms(filename:join(Ebin, atom_to_list(app(I)) ++ ".appup"),
                    [{avsn(2), [{avsn(1), instrs(I, P)}], [{avsn(1), instrs(I, P)}]}]).

instrs(I, P) ->
    [case J rem 3 of
         1 -> {load_module, plain(I, J)};
         2 -> {load_module, plain(I, J), [plain(I, J - 1)]};
         0 -> {update, plain(I, J), {advanced, []}, [plain(I, J - 1)]}
     end || J <- lists:seq(1, P)]
        ++ [{update, mod(I, "srv"), {advanced, []}, []},
            {update, mod(I, "sup"), supervisor}].

write_terms(File, Terms) ->
    ok = file:write_file(File, [io_lib:format("~tp.~n", [T]) || T <- Terms]).

otp_vsns() ->
    [begin _ = application:load(Ap), {ok, V} = application:get_key(Ap, vsn), {Ap, V} end
     || Ap <- [kernel, stdlib, sasl]].
