{application,up,
 [{description,"up"},{vsn,"1.0"},{modules,[u1,u2,u3,u4,u5,u6,u7,u8,u9,u10]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
