-- Spans from every source, one table. A span is identified by its trace and span id:
-- fragments of one span (its log lines, or the same span in two exports) are merged into
-- one row by the writer.
CREATE TABLE spans (
    id                 INTEGER PRIMARY KEY,
    trace_ref          INTEGER NOT NULL REFERENCES traces(id),
    span_id            TEXT    NOT NULL,
    parent_span_id     TEXT,
    name               TEXT    NOT NULL,
    kind               INTEGER NOT NULL,   -- 0 other, 1 agent, 2 llm, 3 tool, 4 chain, 5 retriever
    start_ns           INTEGER NOT NULL,
    end_ns             INTEGER NOT NULL,
    status             INTEGER NOT NULL,   -- 0 unset, 1 ok, 2 error
    status_message     TEXT,
    provider           TEXT,
    model              TEXT,
    input_tokens       INTEGER,
    output_tokens      INTEGER,
    cache_read_tokens  INTEGER,
    cache_write_tokens INTEGER,
    cost               REAL,               -- USD
    tool_name          TEXT,
    format             INTEGER NOT NULL,
    whole              INTEGER NOT NULL,   -- 1: a whole span (OTLP, export); 0: from log lines
    source_id          INTEGER NOT NULL REFERENCES sources(id),
    line               INTEGER NOT NULL,
    attrs              TEXT    NOT NULL    -- JSON object
);
CREATE UNIQUE INDEX spans_key ON spans(trace_ref, span_id);

-- One row per trace: the run's roll-up, refreshed by the writer for each trace a batch
-- touches, so listing and filtering runs never aggregates the spans table.
CREATE TABLE runs (
    trace_ref     INTEGER PRIMARY KEY REFERENCES traces(id),
    root_span_id  TEXT,
    name          TEXT    NOT NULL,
    status        INTEGER NOT NULL,   -- the root span's; 2 when it failed
    start_ns      INTEGER NOT NULL,
    end_ns        INTEGER NOT NULL,
    spans         INTEGER NOT NULL,
    llm_calls     INTEGER NOT NULL,
    tool_calls    INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost          REAL    NOT NULL
);
CREATE INDEX runs_start ON runs(start_ns);
