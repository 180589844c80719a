#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/otp/otp_side.escript - OTP's side of the differential test (tests/t_diff_otp.sh).
%%
%% Usage: escript tests/otp/otp_side.escript LISTFILE OUTFILE
%% LISTFILE holds lines "beam PATH", "term PATH", "boot PATH" or "compile SRC.erl DIR" (SRC
%% compiled several ways into DIR, each beam then taken as "beam"). For each, OTP computes
%% the facts knit must reproduce and writes them to OUTFILE, one record per file:
%%
%%   beam PATH            beam_lib / the raw chunks, binaries as hex:
%%     mod HEX            module name (UTF-8)
%%     md5 HEX            beam_lib:md5/1
%%     vsn HEX            term_to_binary(Vsn) from beam_lib:version/1
%%     exp HEX            term_to_binary([{F,A}]) as beam_lib:chunks(F, [exports]) (sorted)
%%     imp HEX            term_to_binary([{M,F,A}]) as beam_lib:chunks(F, [imports]) (sorted)
%%     loc HEX            term_to_binary([{F,A}]) as beam_lib:chunks(F, [locals]) (sorted)
%%     att HEX            term_to_binary(binary_to_term(Attr)) = module_info(attributes)
%%     cinf HEX           term_to_binary(binary_to_term(CInf)), or of [] when absent
%%     beh HEX            term_to_binary of the behaviour/behavior names, file order
%%     nfuns N            entries in FunT (0 when absent)
%%     dbg 0|1            there is debug info: a non-empty Dbgi or Abst chunk, encrypted
%%                        or not {debug_info_v1, _, {none, _}}
%%     dbgmd5 HEX|none    erlang:md5(term_to_binary(binary_to_term(Dbgi or Abst)));
%%                        none when there is no debug info or it is encrypted
%%   term PATH            file:consult/1
%%     error LINE TEXT    consult failed (LINE 0 when OTP gives none)
%%     t HEX HEX HEX      per term: term_to_binary(T), "~tp" and "~tw" of T as UTF-8
%%   boot PATH            a .boot file
%%     b2t HEX            term_to_binary(binary_to_term(Boot))
%%     raw 0|1            whether that is the file's bytes exactly
%%     script PATH HEX    the sibling .script: term_to_binary of its one consulted term
%%     same 0|1           binary_to_term(Boot) =:= the script's term (OTP's own view)
%%   note TEXT            something the C side should report (maps > 32 keys, ...)
%%   end
-mode(compile).

main([ListFile, OutFile]) ->
    {ok, Bin} = file:read_file(ListFile),
    Lines = [L || L <- string:split(Bin, "\n", all), L =/= <<>>],
    {ok, Out} = file:open(OutFile, [write, raw, binary, delayed_write]),
    lists:foreach(fun(L) -> one(Out, L) end, Lines),
    ok = file:close(Out);
main(_) ->
    io:format(standard_error, "usage: otp_side.escript LISTFILE OUTFILE~n", []),
    halt(1).

one(Out, <<"beam ", Path/binary>>) -> emit(Out, [<<"beam ">>, Path], beam(Path));
one(Out, <<"term ", Path/binary>>) -> emit(Out, [<<"term ">>, Path], term(Path));
one(Out, <<"boot ", Path/binary>>) -> emit(Out, [<<"boot ">>, Path], boot(Path));
one(Out, <<"compile ", Args/binary>>) ->
    [Src, Dir] = string:split(Args, " "),
    [emit(Out, [<<"beam ">>, B], beam(B)) || B <- compile_variants(Src, Dir)].

%% SRC compiled into DIR in the ways that change what a beam holds: with and without debug
%% info, gzip-compressed, deterministic, with encrypted debug info. Returns the beam paths.
compile_variants(Src, Dir) ->
    Mod = filename:basename(Src, ".erl"),
    Variants = [{"debug", [debug_info]}, {"nodebug", []}, {"gzip", [debug_info, compressed]},
                {"det", [deterministic]},
                {"crypt", [debug_info, {debug_info_key, "knit"}, encrypt_debug_info]}],
    [begin
         {ok, _, Bin} = compile:file(binary_to_list(Src), [binary | Opts]),
         Path = iolist_to_binary([Dir, "/", Mod, "_", Name, ".beam"]),
         ok = file:write_file(Path, Bin),
         Path
     end || {Name, Opts} <- Variants].

emit(Out, Head, Fields) ->
    Ls = [Head | [[K, $\s, V] || {K, V} <- Fields]] ++ [<<"end">>],
    ok = file:write(Out, [[L, $\n] || L <- Ls]).

hex(B) -> binary:encode_hex(B).
ttb(T) -> hex(term_to_binary(T)).
utf8(Chars) -> unicode:characters_to_binary(Chars).

%% --- beams ---

beam(Path) ->
    F = binary_to_list(Path),
    try beam_facts(F)
    catch C:R -> [{<<"error">>, utf8(io_lib:format("~tp", [{C, R}]))}]
    end.

beam_facts(F) ->
    {ok, {Mod, Md5}} = beam_lib:md5(F),
    {ok, {Mod, Vsn}} = beam_lib:version(F),
    {ok, _, All} = beam_lib:all_chunks(F),
    Chunk = fun(Id) -> proplists:get_value(Id, All) end,
    {ok, {Mod, [{exports, Exp}, {imports, Imp}, {locals, Loc}]}} =
        beam_lib:chunks(F, [exports, imports, locals]),
    Attrs = binary_to_term(Chunk("Attr")),
    CInf = case Chunk("CInf") of undefined -> []; CB -> binary_to_term(CB) end,
    Beh = [B || {K, Bs} <- Attrs, K =:= behaviour orelse K =:= behavior, B <- Bs],
    NFuns = case Chunk("FunT") of <<N:32, _/binary>> -> N; _ -> 0 end,
    Dbg = case {Chunk("Dbgi"), Chunk("Abst")} of
              {undefined, undefined} -> undefined;
              {undefined, A} -> A;
              {D, _} -> D
          end,
    %% knit's has_debug_info: a non-empty chunk that is encrypted or holds a real term,
    %% not {debug_info_v1, _, {none, _}} (what erlc writes without +debug_info)
    {HasDbg, DbgMd5} =
        case Dbg of
            undefined -> {false, <<"none">>};
            <<>> -> {false, <<"none">>};
            <<0:8, _/binary>> -> {true, <<"none">>}; % encrypted
            _ ->
                case binary_to_term(Dbg) of
                    {debug_info_v1, _, {none, _}} -> {false, <<"none">>};
                    DT -> {true, hex(erlang:md5(term_to_binary(DT)))}
                end
        end,
    [{<<"mod">>, hex(atom_to_binary(Mod, utf8))},
     {<<"md5">>, hex(Md5)},
     {<<"vsn">>, ttb(Vsn)},
     {<<"exp">>, ttb(Exp)},
     {<<"imp">>, ttb(Imp)},
     {<<"loc">>, ttb(Loc)},
     {<<"att">>, ttb(Attrs)},
     {<<"cinf">>, ttb(CInf)},
     {<<"beh">>, ttb(Beh)},
     {<<"nfuns">>, integer_to_binary(NFuns)},
     {<<"dbg">>, flag(HasDbg)},
     {<<"dbgmd5">>, DbgMd5}]
        ++ notes(Attrs) ++ notes(CInf).

flag(true) -> <<"1">>;
flag(false) -> <<"0">>.

%% --- term files ---

term(Path) ->
    case file:consult(binary_to_list(Path)) of
        {ok, Terms} ->
            [{<<"t">>, [ttb(T), $\s, hex(utf8(io_lib:format("~tp", [T]))), $\s,
                        hex(utf8(io_lib:format("~tw", [T])))]} || T <- Terms]
                ++ lists:append([notes(T) || T <- Terms]);
        {error, {Line, Mod, Desc}} when is_integer(Line) ->
            [{<<"error">>, [integer_to_binary(Line), $\s, one_line(Mod:format_error(Desc))]}];
        {error, {{Line, _Col}, Mod, Desc}} ->
            [{<<"error">>, [integer_to_binary(Line), $\s, one_line(Mod:format_error(Desc))]}];
        {error, Other} ->
            [{<<"error">>, [<<"0 ">>, one_line(io_lib:format("~tp", [Other]))]}]
    end.

one_line(Chars) ->
    string:replace(utf8(Chars), "\n", " ", all).

%% --- boot files ---

boot(Path) ->
    {ok, Bin} = file:read_file(Path),
    T = binary_to_term(Bin),
    Enc = term_to_binary(T),
    Script = script_for(Path),
    ScriptFields =
        case file:consult(Script) of
            {ok, [S]} -> [{<<"script">>, [Script, $\s, ttb(S)]}, {<<"same">>, flag(S =:= T)}];
            _ -> []
        end,
    [{<<"b2t">>, hex(Enc)}, {<<"raw">>, flag(Enc =:= Bin)}] ++ ScriptFields ++ notes(T).

%% the sibling NAME.script, else ../releases/*/NAME.script (bin/start.boot is a copy)
script_for(Boot) ->
    Sib = <<(filename:rootname(Boot))/binary, ".script">>,
    Base = filename:basename(filename:rootname(Boot)),
    Pat = filename:join([filename:dirname(Boot), "..", "releases", "*",
                         <<Base/binary, ".script">>]),
    case {filelib:is_regular(Sib), filelib:wildcard(binary_to_list(Pat))} of
        {true, _} -> Sib;
        {false, [S | _]} -> list_to_binary(filename:absname(S));
        _ -> Sib
    end.

%% --- notes ---

%% Maps of more than 32 keys are hash-ordered in term_to_binary and ~p in OTP 25: say so.
notes(T) ->
    case big_maps(T, 0) of
        0 -> [];
        N -> [{<<"note">>, [integer_to_binary(N), <<" map(s) with more than 32 keys">>]}]
    end.

big_maps(T, N) when is_map(T) ->
    N1 = case map_size(T) > 32 of true -> N + 1; false -> N end,
    maps:fold(fun(K, V, Acc) -> big_maps(V, big_maps(K, Acc)) end, N1, T);
big_maps(T, N) when is_tuple(T) -> big_maps(tuple_to_list(T), N);
big_maps([H | Tl], N) -> big_maps(Tl, big_maps(H, N));
big_maps(_, N) -> N.
