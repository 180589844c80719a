{application,cy,
 [{description,"cy"},{vsn,"1.0"},{modules,[y1,y2,y3,y4,y5]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
