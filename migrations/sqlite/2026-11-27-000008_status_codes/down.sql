DROP TABLE status_codes;
