%% alpha 1.1: a second version on the same path
{application, alpha,
 [{description, "Alpha application, later"},
  {vsn, "1.1"},
  {modules, [alpha_app, alpha_sup, alpha_a, alpha_b]},
  {registered, [alpha_sup]},
  {applications, [kernel, stdlib]},
  {mod, {alpha_app, [later]}}]}.
