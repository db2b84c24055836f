-- SQLite only: its case_hour_counts is now stored in key order (WITHOUT ROWID). PostgreSQL
-- keeps the table as it is; the two directories keep one list of migrations.
SELECT 1;
