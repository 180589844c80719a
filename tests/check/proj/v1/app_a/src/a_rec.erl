-module(a_rec).
-include("../include/shared.hrl").
-export([new/1]).

new(Id) -> #msg{id = Id}.
