{application,ob,
 [{description,"ob"},{vsn,"1.0"},{modules,[ob1]},{registered,[]},
  {applications,[kernel,oc]},{included_applications,[]}]}.
