#!/usr/bin/env escript
%% -*- erlang -*-
%% compile.escript - compile the appup fixtures in one VM (as erlc +debug_info would):
%% SRC/v1, v2, v3 *.erl into OUT/v1, v2, v3, and each SRC/bad/NAME.erl into OUT/bad/NAME/
%% (one ebin per broken module). usage: compile.escript SRC OUT
main([Src, Out]) ->
    Dirs = [{filename:join(Src, V), filename:join(Out, V)} || V <- ["v1", "v2", "v3"]],
    Bad = [{F, filename:join([Out, "bad", filename:basename(F, ".erl")])}
           || F <- filelib:wildcard(filename:join([Src, "bad", "*.erl"]))],
    Jobs = [{F, O} || {S, O} <- Dirs, F <- filelib:wildcard(filename:join(S, "*.erl"))] ++ Bad,
    lists:foreach(
      fun({F, O}) ->
              ok = filelib:ensure_dir(filename:join(O, "x")),
              case compile:file(F, [debug_info, {outdir, O}, return_errors]) of
                  {ok, _} -> ok;
                  Err -> io:format(standard_error, "~s: ~p~n", [F, Err]), halt(1)
              end
      end, Jobs).
