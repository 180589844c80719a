{application,e,
 [{description,"e"},{vsn,"2.0-parse"},{modules,[e1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
