%% coding: utf-8
%% delta: a library application (no mod) with a non-latin-1 description
{application, delta,
 [{description, "Δέλτα – ünïcødé 日本語 library"},
  {id, "d1"},
  {vsn, "1.0"},
  {modules, [delta_lib, delta_util]},
  {registered, []},
  {applications, [kernel, stdlib]},
  {env, [{greeting, "héllo"}, {bin, <<"raw">>}]},
  {maxT, 1000},
  {maxP, 10},
  {mod, []},
  {start_phases, undefined}]}.
