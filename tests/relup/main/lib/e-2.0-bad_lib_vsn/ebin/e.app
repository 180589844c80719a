{application,e,
 [{description,"e"},{vsn,"2.0-bad_lib_vsn"},{modules,[e1,e2,e3]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
