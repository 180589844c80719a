{application, kappa,
 [{description, "Kappa"}, {vsn, "1.0"}, {modules, [kappa_app]}, {registered, []},
  {applications, [kernel, stdlib]}, {mod, {kappa_app, []}}]}.
