{application,am,
 [{description,"am"},{vsn,"1.0"},{modules,[am1,am2,am3]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
