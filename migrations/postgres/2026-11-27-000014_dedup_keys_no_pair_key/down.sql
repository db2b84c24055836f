ALTER TABLE dedup_keys ADD PRIMARY KEY (key, request_id);
