-module(kp_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).
start_link() -> supervisor:start_link({local, kp_sup}, kp_sup, []).
init([]) ->
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10},
          [#{id => kp_srv, start => {kp_srv, start_link, []}, shutdown => 5000,
             modules => [kp_srv]}]}}.
