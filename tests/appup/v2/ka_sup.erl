-module(ka_sup).
-behaviour(supervisor).
-knit_timeout(5000).
-knit_apply({first, {ka_sup, pre, []}}).
-knit_apply([{m, f, []}, {{last, -1}, {ka_sup, after_all, [x]}}]).
-export([start_link/0, init/1, pre/0, after_all/1]).
start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).
init([]) -> {ok, {{one_for_one, 5, 10}, []}}.
pre() -> ok.
after_all(_) -> ok.
