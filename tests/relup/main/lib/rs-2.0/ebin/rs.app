{application,rs,
 [{description,"rs"},{vsn,"2.0"},{modules,[rs1,rs3]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
