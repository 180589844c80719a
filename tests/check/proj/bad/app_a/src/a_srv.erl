-module(a_srv).
-behaviour(gen_server).
-export([start_link/0, init/1, handle_call/3, handle_cast/2]).

-record(state, {n = 0, seen = []}).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

init([]) -> {ok, #state{}}.

handle_call(get, _From, S = #state{n = N}) -> {reply, N, S}.
handle_cast(inc, S = #state{n = N, seen = L}) -> {noreply, S#state{n = N + 1, seen = [N | L]}}.
