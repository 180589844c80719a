{application,sasl,
 [{description,"sasl"},{vsn,"1.0"},{modules,[]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
