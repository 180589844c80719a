{application, iota,
 [{description, "Iota"}, {vsn, "1.0"}, {modules, [iota_app]}, {registered, []},
  {applications, [kernel, stdlib]}, {mod, {iota_app, []}}]}.
