{application, kp,
 [{description, "knit patch test application"},
  {vsn, "1.0.0"},
  {modules, [kp_app, kp_sup, kp_srv, kp_calc, kp_fmt, kp_loop, kp_idle]},
  {registered, [kp_sup, kp_srv, kp_idle, kp_loop]},
  {applications, [kernel, stdlib]},
  {mod, {kp_app, []}}]}.
