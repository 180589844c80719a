#!/usr/bin/env escript
%% disasm_counts.escript - per function of each beam, what beam_disasm finds: the oracle for
%% tests/tool_beam_code.c (same line format). Usage: escript disasm_counts.escript BEAM...
main(Files) ->
    [one(F) || F <- Files],
    ok.

one(F) ->
    {beam_file, Mod, _Exp, _Attr, _CInfo, Code} = beam_disasm:file(F),
    [io:format("~s ~s/~b ~b ~s~n", [Mod, Name, Arity, Entry, counts(Is)])
     || {function, Name, Arity, Entry, Is} <- Code].

counts(Is) ->
    C = fun(Ops) -> length([I || I <- Is, lists:member(op(I), Ops)]) end,
    Recv = case C([loop_rec]) of 0 -> 0; _ -> 1 end,
    Line = case [L || {line, L} <- Is, is_integer(L)] of [L1 | _] -> L1; [] -> 0 end,
    io_lib:format("~b ~b ~b ~b ~b ~b ~b ~b ~b",
                  [C([wait]), C([wait_timeout]), C([call]), C([call_last, call_only]),
                   C([call_ext]), C([call_ext_last, call_ext_only]),
                   C([make_fun2, make_fun3]), Recv, Line]).

op(I) when is_tuple(I) -> element(1, I);
op(I) -> I.
