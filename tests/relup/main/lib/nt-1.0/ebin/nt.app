{application,nt,
 [{description,"nt"},{vsn,"1.0"},{modules,[nt1,nt2]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
