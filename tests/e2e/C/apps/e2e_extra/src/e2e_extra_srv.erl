%% e2e_extra_srv - a gen_server of the application added in C. It calls e2e_util 1.1.0's
%% new twice/1 only when asked, never from init/1: systools (and so knit) starts an added
%% application before it loads the changed applications' code, so init/1 would still see
%% e2e_util 1.0.0 during the upgrade.
-module(e2e_extra_srv).
-behaviour(gen_server).
-export([start_link/0, ping/0]).
-export([init/1, handle_call/3, handle_cast/2]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

ping() -> gen_server:call(?MODULE, ping).

init([]) -> {ok, 21}.

handle_call(ping, _From, S) -> {reply, {pong, e2e_util:twice(S)}, S}.

handle_cast(_Msg, S) -> {noreply, S}.
