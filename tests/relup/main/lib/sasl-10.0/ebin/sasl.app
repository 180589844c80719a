{application,sasl,
 [{description,"sasl"},{vsn,"10.0"},{modules,[]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
