{application,np,
 [{description,"np"},{vsn,"1.0"},{modules,[np1,np2]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
