-module(a_rec).
-include("../include/shared.hrl").
-export([new/1, new2/1]).

new(Id) -> #msg{id = Id}.
new2(Id) -> #msg2{id = Id}.
