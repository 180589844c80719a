%% e2e_cache (added in B, same in C) - a gen_server started by the new supervisor child
-module(e2e_cache).
-behaviour(gen_server).
-export([start_link/0, store/2, fetch/1]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

store(K, V) -> gen_server:call(?MODULE, {put, K, V}).
fetch(K) -> gen_server:call(?MODULE, {get, K}).

init([]) -> {ok, #{}}.

handle_call({put, K, V}, _From, S) -> {reply, ok, S#{K => V}};
handle_call({get, K}, _From, S) -> {reply, maps:find(K, S), S}.

handle_cast(_Msg, S) -> {noreply, S}.
