{application,ob,
 [{description,"ob"},{vsn,"2.0"},{modules,[ob1]},{registered,[]},
  {applications,[kernel,oc]},{included_applications,[oi]}]}.
