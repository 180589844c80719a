{application,rs,
 [{description,"rs"},{vsn,"1.0"},{modules,[rs1,rs2]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
