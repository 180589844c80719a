{application,bv,
 [{description,"bv"},{vsn,"1.0"},{modules,[bv1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
