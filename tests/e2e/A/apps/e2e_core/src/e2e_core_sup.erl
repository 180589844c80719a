%% e2e_core_sup (A) - one child: the counter
-module(e2e_core_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).

start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10},
          [#{id => e2e_counter, start => {e2e_counter, start_link, []}}]}}.
