%% xi: UTF-8 text without a coding comment
{application, xi,
 [{description, "Ξι — no coding comment"},
  {vsn, "1.0"},
  {modules, [xi]},
  {registered, []},
  {applications, [kernel, stdlib]}]}.
