{application,other,
 [{description,"other"},{vsn,"1.0"},{modules,[o1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
