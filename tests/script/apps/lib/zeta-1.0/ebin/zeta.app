{application, zeta,
 [{description, "Zeta"}, {vsn, "1.0"}, {modules, [zeta]}, {registered, []},
  {applications, [kernel, stdlib]}, {mod, {zeta, []}}]}.
