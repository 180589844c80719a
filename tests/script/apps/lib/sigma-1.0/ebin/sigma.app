%% sigma.app that defines another application
{application, tau,
 [{description, "Tau"}, {vsn, "1.0"}, {modules, [tau]}, {registered, []},
  {applications, [kernel, stdlib]}]}.
