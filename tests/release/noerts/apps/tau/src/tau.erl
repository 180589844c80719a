-module(tau).
-export([vsn/0]).
vsn() -> "2.0.0".
