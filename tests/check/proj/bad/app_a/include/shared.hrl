%% a record app_a and app_b both include
-record(msg, {id, body, ts}).
