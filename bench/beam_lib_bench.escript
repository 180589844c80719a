#!/usr/bin/env escript
%% -*- erlang -*-
%% bench/beam_lib_bench.escript BEAM... - the OTP side of bench/inspect.sh: for every beam,
%% beam_lib:md5/1 and beam_lib:chunks(F, [attributes, exports, imports]), printed one line
%% per beam (the same facts `knit inspect --json` gives).
-mode(compile).

main(Files) ->
    io:setopts([{encoding, unicode}]),
    lists:foreach(fun facts/1, Files).

facts(F) ->
    {ok, {M, Md5}} = beam_lib:md5(F),
    {ok, {M, [{attributes, A}, {exports, E}, {imports, I}]}} =
        beam_lib:chunks(F, [attributes, exports, imports]),
    Hex = [io_lib:format("~2.16.0b", [B]) || <<B>> <= Md5],
    io:put_chars(io_lib:format("~ts ~ts ~ts ~tw ~tw ~tw~n", [F, M, Hex, A, E, I])).
