-- Sources: every file (or decompressed stream) ingested, identified by its first bytes so
-- that a renamed, rotated or re-compressed copy is recognised, with the cursor that makes
-- ingest idempotent and resumable.
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    path         TEXT    NOT NULL,
    fingerprint  BLOB    NOT NULL,   -- first bytes of the content (up to 1 KiB)
    fp_head      INTEGER,            -- hash of the first 64 bytes, when there are 64
    compression  TEXT,               -- 'gzip' or NULL
    offset       INTEGER NOT NULL DEFAULT 0,   -- bytes of content consumed (decompressed)
    next_line    INTEGER NOT NULL DEFAULT 1,
    framing      TEXT,               -- 'lines' | 'pretty' | 'array', NULL until detected
    format       INTEGER,            -- dominant Format of the file
    first_ingest INTEGER NOT NULL,   -- unix ns
    last_ingest  INTEGER NOT NULL
);
CREATE INDEX sources_path ON sources(path);
CREATE INDEX sources_fp_head ON sources(fp_head) WHERE fp_head IS NOT NULL;

-- Trace ids, each stored once. Records point here by a small integer that grows as new
-- traces appear, so the records' trace index is appended to in order instead of taking
-- random 32-character keys (that random insert was a third of the ingest time).
CREATE TABLE traces (
    id       INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL UNIQUE
);

CREATE TABLE logs (
    id             INTEGER PRIMARY KEY,
    ts             INTEGER NOT NULL,   -- unix ns, UTC
    level          INTEGER NOT NULL,   -- 0 trace .. 5 fatal
    message        TEXT    NOT NULL,
    source_id      INTEGER NOT NULL REFERENCES sources(id),
    line           INTEGER NOT NULL,
    byte_offset    INTEGER NOT NULL,
    byte_len       INTEGER NOT NULL,
    format         INTEGER NOT NULL,
    flags          INTEGER NOT NULL DEFAULT 0,
    trace_ref      INTEGER,            -- traces.id
    span_id        TEXT,
    parent_span_id TEXT,
    attrs          TEXT    NOT NULL    -- JSON object
);
CREATE INDEX logs_ts ON logs(ts);
CREATE INDEX logs_level_ts ON logs(level, ts);
CREATE INDEX logs_trace ON logs(trace_ref) WHERE trace_ref IS NOT NULL;

-- Full text over messages; external content, so the text is stored once.
CREATE VIRTUAL TABLE logs_fts USING fts5(message, content='logs', content_rowid='id', detail='none', columnsize=0);

-- Record counts kept per batch, so stats never scan the logs table.
CREATE TABLE record_counts (
    source_id INTEGER NOT NULL REFERENCES sources(id),
    level     INTEGER NOT NULL,
    format    INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (source_id, level, format)
) WITHOUT ROWID;

-- Every skipped line with its reason. Keyed by line, so re-reading a line adds nothing.
CREATE TABLE skipped_lines (
    source_id INTEGER NOT NULL REFERENCES sources(id),
    line      INTEGER NOT NULL,
    reason    TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    PRIMARY KEY (source_id, line)
) WITHOUT ROWID;
