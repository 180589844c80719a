#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/otp/beam_facts.escript BEAM... - the facts `knit inspect --json` reports, as OTP's
%% beam_lib computes them, one per line:
%%   module P M | md5 P HEX | vsn P TEXT | beh P B1,B2 | attrkey P NAME | attr P NAME TEXT
%%   exp P f/a | imp P m:f/a | dbg P true|false
%% TEXT is io_lib:format("~0tp") (one-line ~tp) for values, ~tw for names. Attributes come
%% from the raw Attr chunk (= Module:module_info(attributes)), grouped by name in first-seen
%% order, one TEXT per occurrence: the value as written ([E] is E, any other value as it
%% is); the script checks that the occurrences, as beam_lib merges them, equal
%% beam_lib:chunks(F, [attributes]) after a key sort.
%% Files are read by content whatever their name.
-mode(compile).

main(Files) ->
    io:setopts([{encoding, unicode}]),
    lists:foreach(fun facts/1, Files).

facts(P) ->
    {ok, F} = file:read_file(P), % beam_lib wants a .beam name; a binary has none
    {ok, {M, Md5}} = beam_lib:md5(F),
    {ok, {M, [{attributes, Merged}, {exports, Exp}, {imports, Imp}]}} =
        beam_lib:chunks(F, [attributes, exports, imports]),
    {ok, {M, [{"Attr", AttrBin}]}} = beam_lib:chunks(F, ["Attr"]),
    Raw = binary_to_term(AttrBin),
    Groups = group(Raw, []),
    case lists:keysort(1, [{K, lists:append([elements(V) || {K1, V} <- Raw, K1 =:= K])}
                           || {K, _} <- Groups]) =:= Merged of
        true -> ok;
        false -> out("attrcheck ~ts grouping differs from beam_lib~n", [P])
    end,
    {ok, {M, Vsn}} = beam_lib:version(F),
    out("module ~ts ~ts~n", [P, atom_to_list(M)]),
    out("md5 ~ts ~ts~n", [P, [io_lib:format("~2.16.0b", [B]) || <<B>> <= Md5]]),
    out("vsn ~ts ~0tp~n", [P, Vsn]),
    Beh = [atom_to_list(B) || {K, V} <- Raw, K =:= behaviour orelse K =:= behavior,
                              B <- elements(V), is_atom(B)],
    out("beh ~ts ~ts~n", [P, lists:join(",", Beh)]),
    lists:foreach(
      fun({K, Vs}) ->
              out("attrkey ~ts ~ts~n", [P, atom_to_list(K)]),
              [out("attr ~ts ~ts ~0tp~n", [P, atom_to_list(K), V]) || V <- Vs]
      end, Groups),
    [out("exp ~ts ~tw/~w~n", [P, Fn, A]) || {Fn, A} <- Exp],
    [out("imp ~ts ~tw:~tw/~w~n", [P, Mo, Fn, A]) || {Mo, Fn, A} <- Imp],
    out("dbg ~ts ~w~n", [P, has_debug_info(F)]).

%% {Name, [occurrence values...]} in first-seen order, repeated names appended
group([], Acc) -> lists:reverse(Acc);
group([{K, V} | T], Acc) ->
    case lists:keyfind(K, 1, Acc) of
        false -> group(T, [{K, [as_written(V)]} | Acc]);
        {K, Old} -> group(T, lists:keyreplace(K, 1, Acc, {K, Old ++ [as_written(V)]}))
    end.

%% the compiler stores -a(E) as [E] when E is not a list
as_written([E]) -> E;
as_written(V) -> V.

elements(V) ->
    try length(V) of _ -> V catch error:badarg -> [V] end.

has_debug_info(F) ->
    case beam_lib:chunks(F, [debug_info]) of
        {ok, {_, [{debug_info, {debug_info_v1, _, {none, _}}}]}} -> false;
        {ok, {_, [{debug_info, no_debug_info}]}} -> false;
        {ok, {_, [{debug_info, _}]}} -> true;
        {error, beam_lib, {key_missing_or_invalid, _, _}} -> true;
        {error, beam_lib, {missing_chunk, _, _}} ->
            case beam_lib:chunks(F, ["Abst"]) of
                {ok, {_, [{"Abst", B}]}} when byte_size(B) > 0 -> true;
                _ -> false
            end
    end.

out(Fmt, Args) -> io:put_chars(io_lib:format(Fmt, Args)).
