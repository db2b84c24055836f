DROP TABLE duplicate_candidates;
DROP TABLE dedup_keys;
