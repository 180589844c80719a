#!/usr/bin/env escript
%% gen_beam_ops.escript - print knit/beam_ops.h: the generic BEAM opcodes (number, name,
%% arity) of the installed OTP's compiler (beam_opcodes:opname/1, generated from genop.tab).
%% Run: escript tests/check/gen_beam_ops.escript > knit/beam_ops.h
main(_) ->
    Max = lists:max([N || N <- lists:seq(1, 255), is_op(N)]),
    io:format("/* beam_ops.h - the generic BEAM instruction set: opcode -> name, arity.\n"
              " * Generated from OTP ~s's compiler (beam_opcodes:opname/1, itself generated from\n"
              " * genop.tab) by: escript tests/check/gen_beam_ops.escript > knit/beam_ops.h */\n"
              "#ifndef KNIT_BEAM_OPS_H\n#define KNIT_BEAM_OPS_H\n\n"
              "#define BEAM_OP_MAX ~b\n\n"
              "struct beam_op {\n    const char *name; /* NULL: a number genop.tab retired */\n"
              "    unsigned char arity;\n};\n\n"
              "static const struct beam_op beam_ops[BEAM_OP_MAX + 1] = {\n",
              [erlang:system_info(otp_release), Max]),
    [case is_op(N) of
         true -> {Name, A} = beam_opcodes:opname(N),
                 io:format("    [~b] = {\"~s\", ~b},\n", [N, Name, A]);
         false -> ok
     end || N <- lists:seq(1, Max)],
    io:format("};\n\n#endif\n").
is_op(N) -> try beam_opcodes:opname(N), true catch _:_ -> false end.
