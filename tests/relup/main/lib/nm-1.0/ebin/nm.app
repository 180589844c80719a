{application,nm,
 [{description,"nm"},{vsn,"1.0"},{modules,[nm1,nm2]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
