{application,lm,
 [{description,"lm"},{vsn,"2.0"},{modules,[lm1,lm2,lm3,lm4]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
