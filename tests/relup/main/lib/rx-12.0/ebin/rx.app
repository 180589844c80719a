{application,rx,
 [{description,"rx"},{vsn,"12.0"},{modules,[rx1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
