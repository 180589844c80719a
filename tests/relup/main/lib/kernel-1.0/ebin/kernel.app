{application,kernel,
 [{description,"kernel"},{vsn,"1.0"},{modules,[]},{registered,[]},
  {applications,[]},{included_applications,[]}]}.
