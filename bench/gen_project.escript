#!/usr/bin/env escript
%% bench/gen_project.escript - generate and compile a large synthetic Erlang project for the
%% benchmarks (bench/release.sh, bench/relup.sh). Not a test.
%%
%% usage: bench/gen_project.escript [-a APPS] [-m MODS] [-V 1|2] [-j JOBS] [-k] OUTDIR
%%   APPS applications (default 50) of MODS modules each (default 100, at least 8): MODS-3
%%   plain modules (a few functions each, calling modules of the same application and of the
%%   previous two), one gen_server with code_change, one supervisor, one application callback.
%%   -V 2 also writes version 2, where every application changed: vsn 2.0.0, six plain
%%   modules changed (a dependency chain m004->m003->m002->m001 and m006->{m005,m001}), the
%%   gen_server (new state, code_change, depends on m001) and the supervisor (a new child)
%%   changed, module _new added, the last plain module deleted; its hand-written appups
%%   (up and down) use load_module with Deps, update {advanced, []} with Deps, update
%%   supervisor, add_module and delete_module, and apply instructions that start the
%%   supervisor's new child (up) and stop and delete it (down), and the changed modules
%%   carry the same dependencies as -knit_depends.
%%   -j JOBS parallel erlc runs, one per application (default: the number of schedulers).
%%   -k  knit only (bench/growth.sh): no rebar.config, and the modules are compiled in this VM
%%       (compile:file/2 with debug_info, JOBS applications at a time) instead of one erlc VM
%%       per application, about 2x faster for many small applications (a VM start per
%%       application is most of the time at 20 modules). The beams differ from erlc's only
%%       in the options recorded in the debug info and the source path in the Line chunk.
%%       Its stamp is separate: a -k project is not taken for a full one nor the reverse.
%% Writes, under OUTDIR (V = 1, 2):
%%   rebar-vV/apps/APP/src/   sources, APP.app.src (and APP.appup in v2); rebar-vV/rebar.config
%%                            (relx release synth V, not with -k): a rebar3 project for the
%%                            same code
%%   lib-vV/APP-V.0.0/ebin/   beams (erlc +debug_info), APP.app, APP.appup (v2)
%%   rel/synth-V.rel          the .rel (ERTS, kernel, stdlib, sasl of the erl running this)
%%   rel/reltool-vV.config    reltool config for knit, {target_dir, "../knit-vV"}
%% A version already generated with the same APPS and MODS is kept (delete OUTDIR to redo it).

-mode(compile).

main(Args) ->
    {Opts, Out} = parse(Args, #{apps => 50, mods => 100, vsn => 1, knit_only => false,
                                jobs => erlang:system_info(schedulers_online)}),
    #{apps := NApps, mods := NMods, vsn := Vsn, jobs := Jobs, knit_only := KnitOnly} = Opts,
    (NApps >= 1 andalso NMods >= 8 andalso (Vsn =:= 1 orelse Vsn =:= 2) andalso Jobs >= 1)
        orelse usage(),
    [persistent_term:put({?MODULE, K}, max(3, length(integer_to_list(N))))
     || {K, N} <- [{apps, NApps}, {mods, NMods}]],
    [generate(filename:absname(Out), NApps, NMods, V, Jobs, KnitOnly)
     || V <- lists:seq(1, Vsn)],
    Beams = length(filelib:wildcard(filename:join([Out, "lib-v*", "*", "ebin", "*.beam"]))),
    io:format("~ts: ~b apps x ~b modules, versions 1..~b (~b beams)~n",
              [Out, NApps, NMods, Vsn, Beams]).

parse(["-a", N | T], O) -> parse(T, O#{apps => int(N)});
parse(["-m", N | T], O) -> parse(T, O#{mods => int(N)});
parse(["-V", N | T], O) -> parse(T, O#{vsn => int(N)});
parse(["-j", N | T], O) -> parse(T, O#{jobs => int(N)});
parse(["-k" | T], O) -> parse(T, O#{knit_only => true});
parse([Out], O) when hd(Out) =/= $- -> {O, Out};
parse(_, _) -> usage().

int(S) -> try list_to_integer(S) catch error:badarg -> usage() end.

usage() ->
    io:format(standard_error, "usage: gen_project.escript [-a APPS] [-m MODS] [-V 1|2] "
              "[-j JOBS] [-k] OUTDIR~n", []),
    halt(1).

generate(Out, NApps, NMods, Vsn, Jobs, KnitOnly) ->
    V = integer_to_list(Vsn),
    Kind = case KnitOnly of true -> "-k"; false -> "" end,
    %% version 2's stamp names the generator's revision of it: r2 added the appups' applies
    Rev = case Vsn of 1 -> ""; 2 -> "r2" end,
    Stamp = filename:join(Out, lists:flatten(io_lib:format(".done-v~b~s-~b-~b~s",
                                                           [Vsn, Rev, NApps, NMods, Kind]))),
    case filelib:is_file(Stamp) of
        true -> ok;
        false ->
            Src = filename:join(Out, "rebar-v" ++ V),
            Lib = filename:join(Out, "lib-v" ++ V),
            [ok = file:del_dir_r(D) || D <- [Src, Lib], filelib:is_dir(D)],
            Apps = [app(I) || I <- lists:seq(1, NApps)],
            [gen_app(Src, I, NApps, NMods, Vsn) || I <- lists:seq(1, NApps)],
            Rel = filename:join(Out, "rel"),
            ok = filelib:ensure_dir(filename:join(Rel, "x")),
            write_terms(filename:join(Rel, "synth-" ++ V ++ ".rel"),
                        [rel_term(Apps, Vsn, otp_vsns())]),
            write_terms(filename:join(Rel, "reltool-v" ++ V ++ ".config"),
                        [reltool_config(Apps, Vsn), {target_dir, "../knit-v" ++ V}]),
            KnitOnly orelse
                write_terms(filename:join(Src, "rebar.config"), rebar_config(Apps, Vsn)),
            compile_all(Src, Lib, Apps, Vsn, Jobs, KnitOnly),
            ok = file:write_file(Stamp, "")
    end.

%% one erlc per application (one VM compiles all its modules), JOBS applications at a time
compile_all(Src, Lib, Apps, Vsn, Jobs, KnitOnly) ->
    Self = self(),
    Run = fun(App) ->
              spawn_link(fun() -> Self ! {done, App, compile_app(Src, Lib, App, Vsn, KnitOnly)} end)
          end,
    {First, Rest} = lists:split(min(Jobs, length(Apps)), Apps),
    [Run(A) || A <- First],
    wait(length(Apps), Rest, Run).

wait(0, _, _) -> ok;
wait(N, Rest, Run) ->
    receive
        {done, _, ok} -> ok;
        {done, App, {error, Out}} ->
            io:format(standard_error, "erlc failed for ~p:~n~ts~n", [App, Out]),
            halt(1)
    end,
    case Rest of
        [A | T] -> Run(A), wait(N - 1, T, Run);
        [] -> wait(N - 1, [], Run)
    end.

compile_app(Src, Lib, App, Vsn, KnitOnly) ->
    A = atom_to_list(App),
    Dir = filename:join([Src, "apps", A, "src"]),
    Ebin = filename:join([Lib, A ++ "-" ++ avsn(Vsn), "ebin"]),
    ok = filelib:ensure_dir(filename:join(Ebin, "x")),
    Erls = lists:sort(filelib:wildcard(filename:join(Dir, "*.erl"))),
    case compile_erls(KnitOnly, Erls, Ebin) of
        {0, _} ->
            {ok, [{application, App, Keys}]} = file:consult(filename:join(Dir, A ++ ".app.src")),
            Mods = [list_to_atom(filename:basename(F, ".erl")) || F <- Erls],
            Keys1 = lists:keyreplace(modules, 1, Keys, {modules, Mods}),
            write_terms(filename:join(Ebin, A ++ ".app"), [{application, App, Keys1}]),
            Appup = filename:join(Dir, A ++ ".appup"),
            filelib:is_file(Appup) andalso
                ({ok, _} = file:copy(Appup, filename:join(Ebin, A ++ ".appup"))),
            ok;
        {_, Output} -> {error, Output}
    end.

%% compile_erls KNIT_ONLY ERLS EBIN - {0, _} when every module compiled, else {_, Output}
compile_erls(false, Erls, Ebin) ->
    Port = open_port({spawn_executable, os:find_executable("erlc")},
                     [{args, ["+debug_info", "-o", Ebin | Erls]}, exit_status,
                      stderr_to_stdout, binary]),
    collect(Port, []);
compile_erls(true, Erls, Ebin) ->
    Opts = [debug_info, {outdir, Ebin}, return_errors],
    Bad = [{F, E} || F <- Erls, {error, E, _} <- [compile:file(F, Opts)]],
    case Bad of
        [] -> {0, []};
        _ -> {1, io_lib:format("~p", [Bad])}
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [Acc, D]);
        {Port, {exit_status, S}} -> {S, Acc}
    end.

%% numbers are zero-padded to 3 digits, or to as many as the largest one has (app1000: a
%% 3-digit field would print app***, which filelib:wildcard then takes for a pattern)
app(I) -> list_to_atom(lists:flatten(io_lib:format("app~*..0b", [width(apps), I]))).
mod(I, Suffix) -> list_to_atom(atom_to_list(app(I)) ++ "_" ++ Suffix).
mod(I, m, J) -> mod(I, lists:flatten(io_lib:format("m~*..0b", [width(mods), J]))).
width(What) -> persistent_term:get({?MODULE, What}).
avsn(Vsn) -> integer_to_list(Vsn) ++ ".0.0".

%% Plain modules are m001..mP with P = NMODS - 3 (the others: _app, _sup, _srv).
%% Version 2 changes m001..m006 (m002->m001, m003->m002, m004->m003 is a dependency chain,
%% m006 depends on m005 and m001), the gen_server (code_change, depends on m001) and the
%% supervisor (one more child), adds _new and deletes mP.
-define(CHANGED, 6).

gen_app(Src, I, NApps, NMods, Vsn) ->
    Dir = filename:join([Src, "apps", atom_to_list(app(I)), "src"]),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    P = NMods - 3,
    Plain = case Vsn of 1 -> lists:seq(1, P); 2 -> lists:seq(1, P - 1) end,
    [write(Dir, mod(I, m, J), plain_src(I, J, P, Vsn)) || J <- Plain],
    write(Dir, mod(I, "app"), app_src(I)),
    write(Dir, mod(I, "sup"), sup_src(I, Vsn)),
    write(Dir, mod(I, "srv"), srv_src(I, Vsn)),
    Vsn =:= 2 andalso write(Dir, mod(I, "new"), new_src(I)),
    Deps = [app(K) || K <- [I - 1, I - 2], K >= 1],
    AppSrc = {application, app(I),
              [{description, "synthetic application " ++ integer_to_list(I)},
               {vsn, avsn(Vsn)},
               {registered, [mod(I, "sup"), mod(I, "srv")]},
               {applications, [kernel, stdlib | lists:reverse(Deps)]},
               {mod, {mod(I, "app"), []}},
               {env, [{index, I}, {apps, NApps}]},
               {modules, []}]},
    write_terms(filename:join(Dir, atom_to_list(app(I)) ++ ".app.src"), [AppSrc]),
    Vsn =:= 2 andalso
        write_terms(filename:join(Dir, atom_to_list(app(I)) ++ ".appup"), [appup(I, P)]).

write(Dir, Mod, Text) ->
    ok = file:write_file(filename:join(Dir, atom_to_list(Mod) ++ ".erl"), Text).

write_terms(File, Terms) ->
    ok = file:write_file(File, [io_lib:format("~tp.~n", [T]) || T <- Terms]).

f(Fmt, Args) -> io_lib:format(Fmt, Args).

%% the dependencies of changed plain module J in version 2 (also its -knit_depends)
deps(_I, 1) -> [];
deps(I, J) when J =< 4 -> [mod(I, m, J - 1)];
deps(_I, 5) -> [];
deps(I, 6) -> [mod(I, m, 5), mod(I, m, 1)].

plain_src(I, J, P, Vsn) ->
    Changed = Vsn =:= 2 andalso J =< ?CHANGED,
    K = case Changed of true -> 1000 + J; false -> J end,
    Tag = case Changed of true -> "v2"; false -> "v1" end,
    Same = case J of
               1 -> "f2(X) -> f1(X) + 1.\n";
               _ -> f("f2(X) -> ~p:f1(X) + 1.\n", [mod(I, m, J - 1)])
           end,
    %% calls into the previous application give reltool's dependency analysis work
    Other = case I of
                1 -> "f3(X) -> lists:sum([X, 1]).\n";
                _ -> f("f3(X) -> ~p:f1(X) + ~p:f2(X).\n",
                       [mod(I - 1, m, min(J, P - 1)), mod(I - 1, m, max(1, J div 2))])
            end,
    Extra = case J of
                6 -> f("f6(X) -> ~p:f1(X) + ~p:f2(X).\n", [mod(I, m, 5), mod(I, m, 1)]);
                _ -> "f6(X) -> f1(X).\n"
            end,
    Attr = case Changed of
               true -> f("-knit_depends(~p).\n", [deps(I, J)]);
               false -> ""
           end,
    [f("-module(~p).\n", [mod(I, m, J)]), Attr,
     "-export([f1/1, f2/1, f3/1, f4/0, f5/2, f6/1, classify/1, table/0]).\n"
     "-record(acc, {n = 0 :: integer(), items = [] :: list()}).\n\n",
     f("f1(X) when is_integer(X) -> X * 3 + ~b;\n"
       "f1(X) when is_float(X) -> round(X) + ~b;\n"
       "f1(_) -> 0.\n", [K, K]),
     Same, Other,
     f("f4() -> <<\"~p ~s: a literal that makes the beam a little larger\">>.\n",
       [mod(I, m, J), Tag]),
     "f5(L, N) ->\n"
     "    #acc{n = C, items = Is} =\n"
     "        lists:foldl(fun(E, #acc{n = C0, items = Is0}) -> #acc{n = C0 + N, items = [E | Is0]} end,\n"
     "                    #acc{}, L),\n"
     "    {C, lists:reverse(Is)}.\n",
     Extra,
     "classify(X) ->\n"
     "    case X of\n"
     "        {ok, V} when is_binary(V) -> {binary, byte_size(V)};\n"
     "        {ok, V} when is_list(V) -> {list, length(V)};\n"
     "        #{key := V} -> {map, V};\n"
     "        [H | _] -> {head, H};\n"
     "        _ -> unknown\n"
     "    end.\n",
     f("table() -> [{~b, ~p}, {~b, \"~s\"}, {index, ~b}].\n", [I, app(I), J, Tag, K])].

app_src(I) ->
    [f("-module(~p).\n", [mod(I, "app")]),
     "-behaviour(application).\n-export([start/2, stop/1]).\n\n",
     f("start(_Type, _Args) -> ~p:start_link().\n\n", [mod(I, "sup")]),
     "stop(_State) -> ok.\n"].

sup_src(I, Vsn) ->
    Child = fun(M) -> f("#{id => ~p, start => {~p, start_link, []}, restart => permanent,"
                        " shutdown => 5000, type => worker, modules => [~p]}", [M, M, M]) end,
    Children = case Vsn of
                   1 -> [Child(mod(I, "srv"))];
                   2 -> [Child(mod(I, "srv")), ",\n          ", Child(mod(I, "new"))]
               end,
    [f("-module(~p).\n", [mod(I, "sup")]),
     "-behaviour(supervisor).\n-export([start_link/0, init/1]).\n\n"
     "start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).\n\n"
     "init([]) ->\n",
     f("    {ok, {#{strategy => one_for_one, intensity => ~b, period => 10},\n"
       "         [", [4 + Vsn]), Children, "]}}.\n"].

srv_src(I, Vsn) ->
    State = case Vsn of 1 -> "#{count => 0}"; 2 -> "#{count => 0, last => undefined}" end,
    CC = case Vsn of
             1 -> "code_change(_OldVsn, State, _Extra) -> {ok, State}.\n";
             2 -> "code_change({down, _}, State, _Extra) -> {ok, maps:remove(last, State)};\n"
                  "code_change(_OldVsn, State, _Extra) -> {ok, State#{last => undefined}}.\n"
         end,
    Call = case Vsn of
               1 -> f("handle_call({work, X}, _From, S = #{count := N}) ->\n"
                      "    {reply, ~p:f1(X), S#{count := N + 1}};\n", [mod(I, m, 1)]);
               2 -> f("handle_call({work, X}, _From, S = #{count := N}) ->\n"
                      "    R = ~p:f1(X),\n"
                      "    {reply, R, S#{count := N + 1, last => R}};\n", [mod(I, m, 1)])
           end,
    Attr = case Vsn of 1 -> ""; 2 -> f("-knit_depends([~p]).\n", [mod(I, m, 1)]) end,
    [f("-module(~p).\n", [mod(I, "srv")]), Attr,
     "-behaviour(gen_server).\n"
     "-export([start_link/0, work/1, count/0]).\n"
     "-export([init/1, handle_call/3, handle_cast/2, handle_info/2, code_change/3]).\n\n"
     "start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).\n"
     "work(X) -> gen_server:call(?MODULE, {work, X}).\n"
     "count() -> gen_server:call(?MODULE, count).\n\n",
     f("init([]) -> {ok, ~s}.\n\n", [State]),
     Call,
     "handle_call(count, _From, S = #{count := N}) -> {reply, N, S}.\n\n"
     "handle_cast(_Msg, S) -> {noreply, S}.\n"
     "handle_info(_Msg, S) -> {noreply, S}.\n\n",
     CC].

new_src(I) ->
    [f("-module(~p).\n", [mod(I, "new")]),
     "-behaviour(gen_server).\n"
     "-export([start_link/0, init/1, handle_call/3, handle_cast/2]).\n\n"
     "start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).\n"
     "init([]) -> {ok, []}.\n"
     "handle_call(_Req, _From, S) -> {reply, ok, S}.\n"
     "handle_cast(_Msg, S) -> {noreply, S}.\n"].

%% up: add, then changed (chains and groups), then the behaviours, then the new child
%% started, then delete; down: the new child stopped and deleted first, then it mirrors up
%% (the applies are what knit check's supervisor rules ask of an added child)
appup(I, P) ->
    Loads = [{load_module, mod(I, m, J), deps(I, J)} || J <- lists:seq(?CHANGED, 1, -1)],
    Srv = {update, mod(I, "srv"), {advanced, []}, [mod(I, m, 1)]},
    Sup = {update, mod(I, "sup"), supervisor},
    Child = fun(F) -> {apply, {supervisor, F, [mod(I, "sup"), mod(I, "new")]}} end,
    Up = [{add_module, mod(I, "new")}] ++ Loads
         ++ [Srv, Sup, Child(restart_child), {delete_module, mod(I, m, P)}],
    Down = [Child(terminate_child), Child(delete_child), {add_module, mod(I, m, P)}] ++ Loads
           ++ [Srv, Sup, {delete_module, mod(I, "new")}],
    {avsn(2), [{avsn(1), Up}], [{avsn(1), Down}]}.

otp_vsns() ->
    [begin _ = application:load(A), {ok, V} = application:get_key(A, vsn), {A, V} end
     || A <- [kernel, stdlib, sasl]].

rel_term(Apps, Vsn, Otp) ->
    {release, {"synth", integer_to_list(Vsn)}, {erts, erlang:system_info(version)},
     Otp ++ [{A, avsn(Vsn)} || A <- Apps]}.

reltool_config(Apps, Vsn) ->
    All = [kernel, stdlib, sasl | Apps],
    {sys, [{lib_dirs, ["../lib-v" ++ integer_to_list(Vsn)]},
           {rel, "synth", integer_to_list(Vsn), All},
           {rel, "start_clean", "", [kernel, stdlib]},
           {boot_rel, "synth"},
           {profile, embedded},
           {incl_cond, exclude},
           {excl_archive_filters, [".*"]}]
     ++ [{app, A, [{incl_cond, include}]} || A <- All]}.

rebar_config(Apps, Vsn) ->
    [{erl_opts, [debug_info]},
     {relx, [{release, {synth, integer_to_list(Vsn)}, [sasl | Apps]},
             {dev_mode, false},
             {include_erts, true},
             {include_src, false},
             {extended_start_script, true}]}].
