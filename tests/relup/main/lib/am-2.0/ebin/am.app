{application,am,
 [{description,"am"},{vsn,"2.0"},{modules,[am1,am2,am4,am5]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
