-module(bad_mfa).
-knit_apply({m, f, notalist}).
-export([x/0]).
x() -> ok.
