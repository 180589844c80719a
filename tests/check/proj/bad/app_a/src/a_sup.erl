-module(a_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).

start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    {ok, {#{strategy => one_for_one}, [spec(a_srv), spec(a_two)]}}.

spec(Id) -> #{id => Id, start => {a_srv, start_link, []}}.
