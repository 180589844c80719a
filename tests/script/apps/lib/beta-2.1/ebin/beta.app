%% beta: includes gamma, has start phases
{application, beta,
 [{description, "Beta"},
  {id, "beta-id"},
  {vsn, "2.1"},
  {modules, [beta_app, beta_sup]},
  {registered, []},
  {applications, [kernel, stdlib, alpha]},
  {included_applications, [gamma]},
  {start_phases, [{init, []}, {go, [fast, {x, 1}]}]},
  {mod, {application_starter, [beta_app, []]}}]}.
