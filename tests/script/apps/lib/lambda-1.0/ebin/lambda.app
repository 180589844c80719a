%% lambda: uses an application no release has
{application, lambda,
 [{description, "Lambda"}, {vsn, "1.0"}, {modules, [lambda]}, {registered, []},
  {applications, [kernel, stdlib, nonexistent]}]}.
