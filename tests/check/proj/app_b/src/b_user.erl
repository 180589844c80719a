-module(b_user).
-include("../../app_a/include/shared.hrl").
-export([call_f/1, call_g/2, call_h/0, msg/1]).

call_f(X) -> a_lib:f(X). %% HERE removed_export_called
call_g(Node, X) -> rpc:call(Node, a_lib, g, [X]). %% HERE rpc
call_h() -> a_old:h(). %% HERE deleted_module_called
msg(Id) -> #msg{id = Id}.
