{application,oi,
 [{description,"oi"},{vsn,"1.0"},{modules,[oi1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
