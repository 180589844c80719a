%% nu: module names that need quoting and sort by their bytes
{application, nu,
 [{description, "Nu"}, {vsn, "1.0"},
  {modules, [zed, 'Zed', 'a b', nu_app, 'Ñu', erl_tracer]},
  {registered, [nu_srv]},
  {applications, [kernel, stdlib]}, {mod, {nu_app, [1, 2.5, "three"]}}]}.
