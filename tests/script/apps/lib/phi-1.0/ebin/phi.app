%% phi: registers a name alpha registers too
{application, phi,
 [{description, "Phi"}, {vsn, "1.0"}, {modules, [phi]}, {registered, [alpha_sup]},
  {applications, [kernel, stdlib]}]}.
