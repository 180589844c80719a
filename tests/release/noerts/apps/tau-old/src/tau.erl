-module(tau).
-export([vsn/0]).
vsn() -> "1.0.0".
