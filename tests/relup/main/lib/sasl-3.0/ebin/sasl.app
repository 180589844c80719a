{application,sasl,
 [{description,"sasl"},{vsn,"3.0"},{modules,[]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
