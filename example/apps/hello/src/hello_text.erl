-module(hello_text).
-export([format/1]).

format(Name) ->
    {ok, Greeting} = application:get_env(hello, greeting),
    Greeting ++ ", " ++ Name ++ "!".
