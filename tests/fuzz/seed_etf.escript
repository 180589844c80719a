#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/fuzz/seed_etf.escript - seed inputs for fuzz_etf: term_to_binary of every term in the
%% term files named on stdin (one path a line), and of terms of every ETF tag OTP writes.
%% Usage: escript seed_etf.escript OUTDIR < list-of-term-files
-mode(compile).

main([Dir]) ->
    Files = [L || L <- string:split(read_stdin([]), "\n", all), L =/= ""],
    FileTerms = lists:append([T || F <- Files, {ok, T} <- [file:consult(F)]]),
    Special = special(),
    Bins = [term_to_binary(T) || T <- FileTerms ++ Special]
        ++ [term_to_binary(T, [compressed]) || T <- Special ++ lists:sublist(FileTerms, 20)]
        ++ [term_to_binary(T, [{minor_version, 0}]) || T <- [1.5, -0.0, 3.0e300]]
        ++ [term_to_binary(T, [{minor_version, 2}]) || T <- ['ä', abc]],
    lists:foreach(fun(B) -> write(Dir, B) end, Bins).

read_stdin(Acc) ->
    case io:get_line("") of
        eof -> lists:flatten(lists:reverse(Acc));
        L -> read_stdin([L | Acc])
    end.

write(Dir, B) ->
    Name = binary_to_list(binary:encode_hex(erlang:md5(B))),
    ok = file:write_file(filename:join(Dir, Name), B).

special() ->
    Big = maps:from_list([{K, K * K} || K <- lists:seq(1, 40)]),
    Deep = lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 200)),
    [0, 255, 256, -1, 1 bsl 27, -(1 bsl 27), 1 bsl 31, 1 bsl 63, -(1 bsl 64), 1 bsl 2040,
     -(1 bsl 3000), 0.0, -0.0, 1.5, 1.0e-300, 1.7976931348623157e308,
     a, 'ä', 'hello world', '', list_to_atom(lists:duplicate(255, $x)),
     list_to_atom([16#1F600]),
     [], "abc", [1, 2 | 3], [a | b], lists:seq(1, 300), [256, 1000],
     {}, {a}, list_to_tuple(lists:seq(1, 300)),
     <<>>, <<1, 2, 3>>, <<1:3>>, <<255, 7:5>>,
     #{}, #{a => 1, "b" => [2], {c} => #{d => e}}, Big,
     self(), make_ref(), hd(erlang:ports()), fun lists:map/2, fun(X) -> X end,
     Deep, {Deep, [Big]}].
