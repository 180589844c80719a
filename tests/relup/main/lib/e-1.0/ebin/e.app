{application,e,
 [{description,"e"},{vsn,"1.0"},{modules,[e1,e2,e3]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
