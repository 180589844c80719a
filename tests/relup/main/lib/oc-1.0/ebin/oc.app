{application,oc,
 [{description,"oc"},{vsn,"1.0"},{modules,[oc1]},{registered,[]},
  {applications,[kernel,stdlib]},{included_applications,[]}]}.
