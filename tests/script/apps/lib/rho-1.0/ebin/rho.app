%% rho: no modules, empty start phases, a map and odd numbers in env
{application, rho,
 [{description, "Rho"}, {vsn, "1.0"}, {modules, []}, {registered, []},
  {applications, [kernel, stdlib]}, {start_phases, []}, {mod, {rho, []}},
  {env, [{m, #{a => 1, "b" => [1.5, -3, 16#ff, $x]}}, {big, 123456789012345678901234567890}]}]}.
