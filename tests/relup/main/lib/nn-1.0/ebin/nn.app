{application,nn,
 [{description,"nn"},{vsn,"1.0"},{modules,[nn1,nn2]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
