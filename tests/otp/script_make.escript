#!/usr/bin/env escript
%% -*- erlang -*-
%% tests/otp/script_make.escript - OTP's side of tests/t_make_script.sh.
%%
%% Usage: escript tests/otp/script_make.escript CASEFILE OUTFILE   (run in the test's dir)
%% CASEFILE holds terms {Case, RelName, Paths, OutDir, Flags}. For each, this runs
%%   systools:make_script(RelName, [{path, Paths}, {outdir, OutDir}, silent | Flags])
%% and writes one line to OUTFILE: "Case ok" or "Case error KIND", KIND being the reason
%% systools gives (the tag knit puts in its message as "(systools_make: KIND)").
-mode(compile).

main([CaseFile, OutFile]) ->
    {ok, Cases} = file:consult(CaseFile),
    Lines = [one(C) || C <- Cases],
    ok = file:write_file(OutFile, Lines);
main(_) ->
    io:format(standard_error, "usage: script_make.escript CASEFILE OUTFILE~n", []),
    halt(1).

one({Case, Rel, Paths, OutDir, Flags}) ->
    Opts = [{path, Paths}, {outdir, OutDir}, silent | Flags],
    case systools:make_script(Rel, Opts) of
        {ok, _Mod, _Warnings} -> io_lib:format("~s ok~n", [Case]);
        {error, _Mod, Error} -> io_lib:format("~s error ~w~n", [Case, kind(Error)]);
        Other -> io_lib:format("~s error ~w~n", [Case, Other])
    end.

%% kind - the reason's tag, looking inside the list collect_applications/2 throws
kind([{error_reading, {_, {{K, _}, _}}} | _]) when is_atom(K) -> K;
kind([{error_reading, {_, {K, _}}} | _]) -> K;
kind([{K, _} | _]) -> K;
kind({K, _, _}) when is_atom(K) -> K;
kind({K, _}) when is_atom(K) -> K;
kind(K) when is_atom(K) -> K;
kind(_) -> unknown.
