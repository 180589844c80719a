{application,ll,
 [{description,"ll"},{vsn,"1.0"},{modules,[l1,l2,l3]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
