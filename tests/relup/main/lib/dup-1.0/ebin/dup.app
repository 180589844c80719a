{application,dup,
 [{description,"dup"},{vsn,"1.0"},{modules,[e1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
