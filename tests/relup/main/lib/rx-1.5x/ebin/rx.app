{application,rx,
 [{description,"rx"},{vsn,"1.5x"},{modules,[rx1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
