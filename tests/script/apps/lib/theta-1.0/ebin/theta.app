%% theta: includes iota and kappa; a release may narrow that
{application, theta,
 [{description, "Theta"}, {vsn, "1.0"}, {modules, [theta_app]}, {registered, []},
  {applications, [kernel, stdlib]}, {included_applications, [iota, kappa]},
  {mod, {theta_app, []}}]}.
