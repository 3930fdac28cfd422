-- How far each downsampling tier has been applied (Unix ms): compaction resumes there.
CREATE TABLE sample_compaction (
    tier        INTEGER PRIMARY KEY,
    done_until  INTEGER NOT NULL
);
