%% e2e_extra_app - application callback of the application added in C
-module(e2e_extra_app).
-behaviour(application).
-export([start/2, stop/1]).

start(_Type, _Args) -> e2e_extra_sup:start_link().

stop(_State) -> ok.
