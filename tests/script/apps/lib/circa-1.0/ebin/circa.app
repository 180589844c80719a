{application, circa,
 [{description, "Circa"}, {vsn, "1.0"}, {modules, [circa]}, {registered, []},
  {applications, [kernel, stdlib, circb]}]}.
