{application,needy,
 [{description,"needy"},{vsn,"1.0"},{modules,[nd1]},{registered,[]},
  {applications,[kernel,absent]},{included_applications,[]}]}.
