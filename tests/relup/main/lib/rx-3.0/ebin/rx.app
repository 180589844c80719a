{application,rx,
 [{description,"rx"},{vsn,"3.0"},{modules,[rx1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
