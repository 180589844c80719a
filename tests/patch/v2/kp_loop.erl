-module(kp_loop).
-export([start/0, ping/0]).
start() -> register(kp_loop, spawn(fun loop/0)), ok.
ping() -> kp_loop ! {ping, self()}, receive {pong, V} -> V after 2000 -> timeout end.
loop() ->
    receive {ping, From} -> From ! {pong, 2} end,
    loop().
