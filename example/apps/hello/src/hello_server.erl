-module(hello_server).
-behaviour(gen_server).
-knit_priority(10).
-knit_extra({greeting, "Hello"}).
-export([start_link/0, greet/1, count/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

greet(Name) ->
    gen_server:call(?MODULE, {greet, Name}).

count() ->
    gen_server:call(?MODULE, count).

init([]) ->
    {ok, #{count => 0}}.

handle_call({greet, Name}, _From, State = #{count := N}) ->
    {reply, hello_text:format(Name), State#{count := N + 1}};
handle_call(count, _From, State = #{count := N}) ->
    {reply, N, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.
