{application, circb,
 [{description, "Circb"}, {vsn, "1.0"}, {modules, [circb]}, {registered, []},
  {applications, [kernel, stdlib, circa]}]}.
