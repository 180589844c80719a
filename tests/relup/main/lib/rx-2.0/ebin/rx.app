{application,rx,
 [{description,"rx"},{vsn,"2.0"},{modules,[rx1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
