%% a record app_a and app_b both include; the new fields go in a new record
-record(msg, {id, body}).
-record(msg2, {id, body, ts}).
