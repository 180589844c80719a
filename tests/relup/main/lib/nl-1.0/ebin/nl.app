{application,nl,
 [{description,"nl"},{vsn,"1.0"},{modules,[nl1,nl2]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
