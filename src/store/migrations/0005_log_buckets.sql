-- Log records counted per source, level and second: what the derived series
-- `sightline_log_records_total` are computed from, without scanning the logs table.
CREATE TABLE log_buckets (
    source_id  INTEGER NOT NULL,
    level      INTEGER NOT NULL,
    t          INTEGER NOT NULL,   -- Unix seconds
    n          INTEGER NOT NULL,
    PRIMARY KEY (source_id, level, t)
) WITHOUT ROWID;

INSERT INTO log_buckets (source_id, level, t, n)
SELECT source_id, level, ts / 1000000000, count(*) FROM logs GROUP BY 1, 2, 3;
