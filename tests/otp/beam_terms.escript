#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/otp/beam_terms.escript BEAM... - what OTP says about each beam, for tests/check_beam.c:
%% one line per fact, "PATH<TAB>KEY<TAB>VALUE", VALUE written with ~tw:
%%   module, md5 (hex), attributes (= module_info(attributes): the raw Attr chunk),
%%   compile_info (the CInf chunk), debug_info (the Dbgi chunk's term, or none),
%%   exports, imports, locals (beam_lib:chunks/2), nfuns (FunT entries), vsn (beam_lib:version)
-mode(compile).

main(Files) ->
    io:setopts([{encoding, unicode}]),
    lists:foreach(fun facts/1, Files).

facts(P) ->
    {ok, F} = file:read_file(P),
    {ok, {M, Md5}} = beam_lib:md5(F),
    {ok, {M, [{exports, E}, {imports, I}, {locals, L}]}} =
        beam_lib:chunks(F, [exports, imports, locals]),
    {ok, {M, [{"Attr", A}, {"CInf", C}]}} = beam_lib:chunks(F, ["Attr", "CInf"]),
    Dbgi = case beam_lib:chunks(F, ["Dbgi"]) of
               {ok, {M, [{"Dbgi", D}]}} -> binary_to_term(D);
               _ -> none
           end,
    NFuns = case beam_lib:chunks(F, ["FunT"]) of
                {ok, {M, [{"FunT", <<N:32, _/binary>>}]}} -> N;
                _ -> 0
            end,
    {ok, {M, Vsn}} = beam_lib:version(F),
    Out = fun(K, V) -> io:put_chars(io_lib:format("~ts\t~ts\t~tw~n", [P, K, V])) end,
    Out("module", M),
    io:put_chars(io_lib:format("~ts\tmd5\t~ts~n",
                               [P, [io_lib:format("~2.16.0b", [B]) || <<B>> <= Md5]])),
    Out("attributes", binary_to_term(A)),
    Out("compile_info", binary_to_term(C)),
    Out("debug_info", Dbgi),
    Out("exports", E),
    Out("imports", I),
    Out("locals", L),
    Out("nfuns", NFuns),
    Out("vsn", Vsn).
