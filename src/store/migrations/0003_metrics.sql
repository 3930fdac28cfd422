-- Metric series and samples (scraped, read from exposition files, or derived from logs and
-- spans), the metadata of their families, and scrape targets.

CREATE TABLE metric_families (
    name     TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    help     TEXT NOT NULL DEFAULT '',
    unit     TEXT NOT NULL DEFAULT '',
    derived  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- A series: a metric name and a label set (canonical JSON object, keys sorted).
CREATE TABLE series (
    id      INTEGER PRIMARY KEY,
    metric  TEXT NOT NULL,
    labels  TEXT NOT NULL,
    family  TEXT,
    UNIQUE (metric, labels)
);

-- One row per sample. `v` is a REAL, or the text 'NaN' / 'stale' (SQLite has no NaN), so a
-- staleness marker survives the round trip. Times are Unix milliseconds.
CREATE TABLE samples (
    series_id  INTEGER NOT NULL,
    t          INTEGER NOT NULL,
    v          ANY,
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID;

CREATE TABLE scrape_targets (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL UNIQUE,
    interval_ms   INTEGER NOT NULL,
    timeout_ms    INTEGER NOT NULL,
    labels        TEXT NOT NULL DEFAULT '{}',
    headers       TEXT NOT NULL DEFAULT '{}',
    bearer_token  TEXT,
    paused        INTEGER NOT NULL DEFAULT 0,
    created_ns    INTEGER NOT NULL
);
