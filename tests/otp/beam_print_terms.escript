#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/otp/beam_print_terms.escript FILE... - each file's terms as `knit inspect` prints
%% a non-beam file: io_lib:format("~tp.~n", [T]) for every term file:consult/1 reads, or for
%% the one term of a file that starts with byte 131 (a .boot file: binary_to_term/1).
-mode(compile).

main(Files) ->
    io:setopts([{encoding, unicode}]),
    lists:foreach(fun print/1, Files).

print(F) ->
    {ok, Bin} = file:read_file(F),
    Terms = case Bin of
                <<131, _/binary>> -> [binary_to_term(Bin)];
                _ -> {ok, Ts} = file:consult(F), Ts
            end,
    [io:put_chars(io_lib:format("~tp.~n", [T])) || T <- Terms].
