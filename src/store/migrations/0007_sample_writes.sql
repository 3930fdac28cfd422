-- A log of sample writes, one row per committed batch with the oldest time it wrote (or, for
-- compaction, deleted), so that a reader keeping recent samples in memory (the live alert
-- loop) knows what to read again instead of re-reading every window every cycle. Derived
-- series (sightline_*) are rewritten by their own path and are not logged; readers do not
-- keep them. Pruned by the writer to the newest 10,000 rows.
CREATE TABLE sample_writes (
    seq   INTEGER PRIMARY KEY,
    min_t INTEGER NOT NULL
);
