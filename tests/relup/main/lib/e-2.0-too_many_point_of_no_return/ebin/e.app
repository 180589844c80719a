{application,e,
 [{description,"e"},{vsn,"2.0-too_many_point_of_no_return"},{modules,[e1,e2,e3]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
