%% omicron: found only through a --path wildcard
{application, omicron,
 [{description, "Omicron"}, {vsn, "1.0"}, {modules, [omicron_app, omicron_sup]},
  {registered, []}, {applications, [kernel, stdlib, sasl]}, {mod, {omicron_app, []}}]}.
