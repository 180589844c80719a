%% e2e_core_app - application callback; the same source in every version (never reloaded)
-module(e2e_core_app).
-behaviour(application).
-export([start/2, stop/1]).

start(_Type, _Args) -> e2e_core_sup:start_link().

stop(_State) -> ok.
