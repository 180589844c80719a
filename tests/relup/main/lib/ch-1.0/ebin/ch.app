{application,ch,
 [{description,"ch"},{vsn,"1.0"},{modules,[c1,c2,c3,c4,c5,c6]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
