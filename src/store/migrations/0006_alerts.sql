-- Live alerting: rule health, alert state that survives a restart, transition history,
-- silences and a log of every notification sent (or that failed).

-- Every rule of the rule files in force, with the outcome of its last evaluation.
CREATE TABLE alert_rules (
    group_name  TEXT NOT NULL,
    idx         INTEGER NOT NULL,      -- position in the group
    file        TEXT NOT NULL,
    name        TEXT NOT NULL,         -- alert or record name
    kind        TEXT NOT NULL,         -- 'alert' | 'record'
    expr        TEXT NOT NULL,
    for_ms      INTEGER NOT NULL DEFAULT 0,
    labels      TEXT NOT NULL DEFAULT '{}',
    interval_ms INTEGER NOT NULL,
    health      TEXT NOT NULL DEFAULT 'unknown',   -- 'ok' | 'err' | 'unknown'
    last_error  TEXT,
    last_eval   INTEGER,               -- Unix ms
    eval_ms     REAL,
    PRIMARY KEY (group_name, idx)
);

-- Alerts that are pending, firing, or resolved within the last 15 minutes.
CREATE TABLE alerts (
    group_name   TEXT NOT NULL,
    rule_name    TEXT NOT NULL,
    labels       TEXT NOT NULL,        -- canonical JSON object, alertname included
    annotations  TEXT NOT NULL,
    phase        TEXT NOT NULL,        -- 'pending' | 'firing' | 'inactive'
    active_at    INTEGER NOT NULL,
    fired_at     INTEGER,
    resolved_at  INTEGER,
    keep_firing_since INTEGER,
    last_sent_at INTEGER,
    value        REAL,
    PRIMARY KEY (group_name, rule_name, labels)
);

-- Every phase change.
CREATE TABLE alert_history (
    id         INTEGER PRIMARY KEY,
    t          INTEGER NOT NULL,       -- Unix ms
    group_name TEXT NOT NULL,
    rule_name  TEXT NOT NULL,
    labels     TEXT NOT NULL,
    phase      TEXT NOT NULL,          -- the phase entered: 'pending' | 'firing' | 'resolved'
    value      REAL
);
CREATE INDEX alert_history_t ON alert_history (t);

CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    matchers   TEXT NOT NULL,          -- PromQL matcher list, e.g. {alertname="X"}
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE notifications (
    id        INTEGER PRIMARY KEY,
    t         INTEGER NOT NULL,        -- Unix ms
    receiver  TEXT NOT NULL,           -- 'desktop' | 'webhook <url>'
    status    TEXT NOT NULL,           -- 'firing' | 'resolved'
    group_key TEXT NOT NULL,
    summary   TEXT NOT NULL,
    body      TEXT NOT NULL,
    alerts    TEXT NOT NULL,           -- JSON array of label sets
    outcome   TEXT NOT NULL,           -- 'sent' | 'failed' | 'suppressed'
    error     TEXT
);
CREATE INDEX notifications_t ON notifications (t);

-- The app's alerting configuration: 'rules' (the workspace's own rule file, YAML) and
-- 'settings' (JSON: built-in rules on/off, notification policy, receivers).
CREATE TABLE alert_config (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
