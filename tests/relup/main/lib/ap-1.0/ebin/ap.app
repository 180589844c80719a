{application,ap,
 [{description,"ap"},{vsn,"1.0"},{modules,[ap1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
