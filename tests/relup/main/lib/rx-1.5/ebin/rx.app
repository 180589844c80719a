{application,rx,
 [{description,"rx"},{vsn,"1.5"},{modules,[rx1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
