{application,ap,
 [{description,"ap"},{vsn,"2.0"},{modules,[ap1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
