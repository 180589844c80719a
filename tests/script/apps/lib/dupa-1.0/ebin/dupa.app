%% dupa: claims a module alpha also has
{application, dupa,
 [{description, "Dupa"}, {vsn, "1.0"}, {modules, [dupa, alpha_a]}, {registered, []},
  {applications, [kernel, stdlib]}]}.
