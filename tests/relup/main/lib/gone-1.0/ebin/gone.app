{application,gone,
 [{description,"gone"},{vsn,"1.0"},{modules,[g1,g2]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
