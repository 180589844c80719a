{application,kernel,
 [{description,"kernel"},{vsn,"2.0"},{modules,[]},{registered,[]},
  {applications,[]},{included_applications,[]}]}.
