%% alpha: an ordinary application with a callback module
{application, alpha,
 [{description, "Alpha application"},
  {vsn, "1.0"},
  {modules, [alpha_app, alpha_sup, alpha_a]},
  {registered, [alpha_sup]},
  {applications, [kernel, stdlib]},
  {mod, {alpha_app, []}},
  {env, [{port, 8080}, {name, "alpha"}]}]}.
