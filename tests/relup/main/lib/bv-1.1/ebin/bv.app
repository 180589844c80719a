{application,bv,
 [{description,"bv"},{vsn,"1.1"},{modules,[bv1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
