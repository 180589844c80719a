%% eps: zeta is optional
{application, eps,
 [{description, "Epsilon"},
  {vsn, "1.0"},
  {modules, [eps_app]},
  {registered, []},
  {applications, [kernel, stdlib, zeta]},
  {optional_applications, [zeta]},
  {mod, {eps_app, []}}]}.
