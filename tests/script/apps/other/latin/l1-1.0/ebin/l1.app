%% coding: latin-1
% a latin-1 .app: its description holds the byte 0xE9 (e acute)
{application, l1,
 [{description, "café crème"},
  {vsn, "1.0"},
  {modules, []},
  {registered, []},
  {applications, [kernel, stdlib]}]}.
