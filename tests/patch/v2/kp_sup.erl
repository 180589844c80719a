-module(kp_sup).
-behaviour(supervisor).
%% v2: kp_srv's shutdown changes, a new child kp_idle is added and started by the patch
-knit_apply({last, {supervisor, restart_child, [kp_sup, kp_idle]}}).
-export([start_link/0, init/1]).
start_link() -> supervisor:start_link({local, kp_sup}, kp_sup, []).
init([]) ->
    {ok, {#{strategy => one_for_one, intensity => 7, period => 10},
          [#{id => kp_srv, start => {kp_srv, start_link, []}, shutdown => 1234,
             modules => [kp_srv]},
           #{id => kp_idle, start => {kp_idle, start_link, []}, modules => [kp_idle]}]}}.
