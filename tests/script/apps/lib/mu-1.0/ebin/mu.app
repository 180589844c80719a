%% mu: uses gamma, which beta includes (systools makes that a use of beta)
{application, mu,
 [{description, "Mu"}, {vsn, "1.0"}, {modules, [mu_app]}, {registered, []},
  {applications, [kernel, stdlib, gamma]}, {mod, {mu_app, []}}]}.
