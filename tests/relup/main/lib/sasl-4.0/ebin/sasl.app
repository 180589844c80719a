{application,sasl,
 [{description,"sasl"},{vsn,"4.0"},{modules,[]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
