{application, gamma,
 [{description, "Gamma, included in beta"},
  {vsn, "0.3"},
  {modules, [gamma_app, gamma_x]},
  {registered, [gamma_srv]},
  {applications, [kernel, stdlib]},
  {mod, {gamma_app, []}},
  {start_phases, [{go, []}]}]}.
