%% e2e_extra_sup - supervisor of the application added in C
-module(e2e_extra_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).

start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10},
          [#{id => e2e_extra_srv, start => {e2e_extra_srv, start_link, []}}]}}.
