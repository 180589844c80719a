#!/usr/bin/env escript
%% check_otp.escript - what `knit check BEAM...` decodes, done with OTP's own tools: per beam,
%% beam_lib:md5/1 and beam_lib:chunks/2 (attributes, compile info, exports, imports) and
%% beam_disasm:file/1, then a walk of every function for the instructions knit check looks
%% at (wait, wait_timeout, loop_rec, local and external calls, make_fun). The baseline of
%% bench/check.sh; prints one count line so the work cannot be skipped.
-mode(compile).

main(Files) ->
    N = lists:foldl(fun(F, Acc) -> Acc + one(F) end, 0, Files),
    io:format("~b beams, ~b instructions of interest~n", [length(Files), N]).

one(F) ->
    {ok, {_, _}} = beam_lib:md5(F),
    {ok, {_, _}} = beam_lib:chunks(F, [attributes, compile_info, exports, imports]),
    {beam_file, _Mod, _Exp, _Attr, _CInfo, Code} = beam_disasm:file(F),
    lists:sum([length([I || I <- Is, interesting(I)]) || {function, _, _, _, Is} <- Code]).

interesting(I) when is_tuple(I) ->
    lists:member(element(1, I), [wait, wait_timeout, loop_rec, call, call_last, call_only,
                                 call_ext, call_ext_last, call_ext_only, make_fun2, make_fun3]);
interesting(_) -> false.
