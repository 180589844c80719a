-module(a_sup).
-behaviour(supervisor).
-export([start_link/0, init/1, start_two/0, stop_two/0]).
-knit_apply({last, {a_sup, start_two, []}}).
-knit_apply({down, first, {a_sup, stop_two, []}}).

start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    {ok, {#{strategy => one_for_one}, [srv(), two()]}}.

srv() -> #{id => a_srv, start => {a_srv, start_link, []}}.
two() -> #{id => a_two, start => {a_srv, start_link, []}}.

start_two() -> supervisor:start_child(?MODULE, two()).
stop_two() ->
    _ = supervisor:terminate_child(?MODULE, a_two),
    supervisor:delete_child(?MODULE, a_two).
