%% nodesc: no description, which systools requires
{application, nodesc,
 [{vsn, "1.0"}, {modules, [nodesc]}, {registered, []}, {applications, [kernel, stdlib]}]}.
