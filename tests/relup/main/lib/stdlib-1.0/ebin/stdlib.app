{application,stdlib,
 [{description,"stdlib"},{vsn,"1.0"},{modules,[]},{registered,[]},
  {applications,[]},{included_applications,[]}]}.
