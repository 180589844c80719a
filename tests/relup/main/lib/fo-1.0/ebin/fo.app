{application,fo,
 [{description,"fo"},{vsn,"1.0"},{modules,[f1,f2,f3,f4]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
