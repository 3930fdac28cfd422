//! The one writer: a thread that owns the only read-write connection.
//!
//! Callers send [`Batch`]es over a bounded channel (backpressure: a fast parser waits for the
//! disk instead of piling records up in memory) and get a one-shot reply. Each batch is one
//! transaction holding its records, their full-text rows, their skipped lines, the record
//! counters and the source's new cursor, so after a crash at any point the workspace holds
//! exactly the records before the cursor: a second run resumes there, with nothing lost and
//! nothing twice.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension, params};

use super::open::{open_checkpointer, open_writer};
use super::queries::spans::{SPAN_COLUMNS, span_from_row};
use crate::error::{Error, Result};
use crate::model::{Format, LogRecord, MetricMeta, MetricSample, Span, now_ns};

/// Batches in flight between the parser and the writer.
const QUEUE: usize = 4;

/// A new source row.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub path: String,
    pub fingerprint: Vec<u8>,
    pub fp_head: Option<i64>,
    pub compression: Option<&'static str>,
}

/// A skipped line as stored.
#[derive(Debug, Clone)]
pub struct SkipRow {
    pub line: u64,
    pub reason: &'static str,
    pub detail: String,
}

/// Where a source's reading stands after a batch.
#[derive(Debug, Clone)]
pub struct CursorUpdate {
    pub offset: u64,
    pub next_line: u64,
    pub framing: Option<&'static str>,
    pub format: Option<Format>,
    /// A longer fingerprint, when the file has grown past the stored one.
    pub fingerprint: Option<(Vec<u8>, Option<i64>)>,
    /// The path the source was last read from (a rotated file keeps its identity).
    pub path: Option<String>,
}

/// One transaction's worth of work for one source.
#[derive(Debug)]
pub struct Batch {
    pub source_id: i64,
    pub records: Vec<LogRecord>,
    /// Whole spans and span fragments; merged with what the workspace already has.
    pub spans: Vec<Span>,
    /// Metric samples (exposition files, derived series) and their families.
    pub samples: Vec<MetricSample>,
    pub metric_meta: Vec<MetricMeta>,
    pub skips: Vec<SkipRow>,
    pub cursor: CursorUpdate,
}

/// Samples that belong to no file source (a scrape).
#[derive(Debug, Default)]
pub struct SampleBatch {
    pub samples: Vec<MetricSample>,
    pub metric_meta: Vec<MetricMeta>,
}

/// Work run on the writer's own connection.
type WriterJob = Box<dyn FnOnce(&mut Connection) -> Result<()> + Send>;

enum Msg {
    CreateSource(NewSource, SyncSender<Result<i64>>),
    Batch(Batch, SyncSender<(Result<()>, Batch)>),
    Samples(SampleBatch, SyncSender<Result<()>>),
    Exec(WriterJob, SyncSender<Result<()>>),
}

/// A cloneable handle to the writer thread.
#[derive(Debug, Clone)]
pub struct WriterHandle {
    tx: SyncSender<Msg>,
    feed: Arc<SampleFeed>,
}

/// One committed sample write: its `sample_writes` sequence number and its samples as
/// (series id, time, value).
pub type FedBatch = (i64, Arc<Vec<(i64, i64, f64)>>);

/// The samples this process's writer committed lately, newest last, so that a reader in the
/// same process that keeps recent samples in memory (the live alert loop) takes them from
/// here instead of reading back what was just written. Filled only once a reader asked
/// ([`SampleFeed::subscribe`]) and bounded: a reader that falls behind, or a write that did
/// not come through this writer (another process, compaction), reads the workspace instead.
#[derive(Debug, Default)]
pub struct SampleFeed {
    wanted: AtomicBool,
    batches: Mutex<(VecDeque<FedBatch>, usize)>,
}

/// Most samples the feed holds.
const FEED_MAX_SAMPLES: usize = 500_000;

impl SampleFeed {
    /// Starts keeping batches from the next commit on.
    pub fn subscribe(&self) {
        self.wanted.store(true, Ordering::Relaxed);
    }

    fn wanted(&self) -> bool {
        self.wanted.load(Ordering::Relaxed)
    }

    fn push(&self, b: FedBatch) {
        let Ok(mut g) = self.batches.lock() else {
            return;
        };
        let (q, total) = &mut *g;
        *total += b.1.len();
        q.push_back(b);
        while *total > FEED_MAX_SAMPLES
            && let Some(old) = q.pop_front()
        {
            *total -= old.1.len();
        }
    }

    /// Every batch with a sequence number in `(after, upto]`, if the feed holds all of them
    /// (sequence numbers are consecutive); `None` if any is missing.
    pub fn since(&self, after: i64, upto: i64) -> Option<Vec<FedBatch>> {
        let g = self.batches.lock().ok()?;
        let out: Vec<FedBatch> =
            g.0.iter()
                .filter(|(seq, _)| *seq > after && *seq <= upto)
                .cloned()
                .collect();
        let complete = out.len() as i64 == upto - after
            && out.windows(2).all(|w| w[1].0 == w[0].0 + 1)
            && out.first().is_none_or(|b| b.0 == after + 1);
        complete.then_some(out)
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::CreateSource(s, _) => write!(f, "CreateSource({})", s.path),
            Msg::Batch(b, _) => write!(
                f,
                "Batch({} records, {} spans, {} samples)",
                b.records.len(),
                b.spans.len(),
                b.samples.len()
            ),
            Msg::Samples(b, _) => write!(f, "Samples({})", b.samples.len()),
            Msg::Exec(..) => write!(f, "Exec"),
        }
    }
}

/// A reply that will arrive when the writer has committed (or failed) a batch. The batch
/// comes back with it, so that freeing its records costs the caller's thread, not the
/// writer's (that was a tenth of the writer's time).
#[derive(Debug)]
pub struct Pending(Receiver<(Result<()>, Batch)>);

impl Pending {
    /// Waits for the commit.
    pub fn wait(self) -> Result<()> {
        self.0
            .recv()
            .map(|(r, _)| r)
            .unwrap_or(Err(Error::WriterGone))
    }
    /// The result if the batch is already done.
    pub fn try_result(&self) -> Option<Result<()>> {
        match self.0.try_recv() {
            Ok((r, _batch)) => Some(r),
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(Err(Error::WriterGone)),
        }
    }
}

impl WriterHandle {
    /// Opens the workspace for writing and starts the writer thread.
    pub fn spawn(path: &Path) -> Result<(WriterHandle, JoinHandle<()>)> {
        let conn = open_writer(path)?;
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let db_path = path.to_owned();
        let feed = Arc::new(SampleFeed::default());
        let series = SeriesCache {
            feed: feed.clone(),
            ..SeriesCache::default()
        };
        // The prices spans are costed with: the workspace's price file over the built-in
        // one, read when the workspace is opened. A broken file is reported by `sightline
        // cost`; spans are costed with the built-in prices meanwhile.
        let prices = crate::pricing::load_for_workspace(path, None)
            .unwrap_or_else(|_| crate::pricing::PriceTable::builtin().clone());
        let join = std::thread::Builder::new()
            .name("sightline-writer".into())
            .spawn(move || writer_loop(conn, rx, db_path, series, prices))?;
        Ok((WriterHandle { tx, feed }, join))
    }

    /// What this writer committed lately, for readers that keep samples in memory.
    pub fn feed(&self) -> &Arc<SampleFeed> {
        &self.feed
    }

    pub fn create_source(&self, s: NewSource) -> Result<i64> {
        let (rtx, rrx) = sync_channel(1);
        self.tx
            .send(Msg::CreateSource(s, rtx))
            .map_err(|_| Error::WriterGone)?;
        rrx.recv().unwrap_or(Err(Error::WriterGone))
    }

    /// Writes samples that belong to no file (a scrape) and waits for the commit.
    pub fn write_samples(&self, b: SampleBatch) -> Result<()> {
        let (rtx, rrx) = sync_channel(1);
        self.tx
            .send(Msg::Samples(b, rtx))
            .map_err(|_| Error::WriterGone)?;
        rrx.recv().unwrap_or(Err(Error::WriterGone))
    }

    /// Runs `f` on the writer's connection (small maintenance writes: scrape targets,
    /// retention) and waits for it.
    pub fn exec(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let (rtx, rrx) = sync_channel(1);
        self.tx
            .send(Msg::Exec(Box::new(f), rtx))
            .map_err(|_| Error::WriterGone)?;
        rrx.recv().unwrap_or(Err(Error::WriterGone))
    }

    /// Queues a batch; blocks while the queue is full.
    pub fn write(&self, b: Batch) -> Result<Pending> {
        let (rtx, rrx) = sync_channel(1);
        self.tx
            .send(Msg::Batch(b, rtx))
            .map_err(|_| Error::WriterGone)?;
        Ok(Pending(rrx))
    }
}

/// Trace ids already in the `traces` table, so most records need no lookup. Bounded: it
/// is cleared when full (the table stays the truth).
#[derive(Debug, Default)]
struct TraceCache {
    ids: HashMap<String, i64, std::hash::BuildHasherDefault<Fnv>>,
}

/// FNV-1a: trace ids are short random hex, no DoS concern here; SipHash was 5% of the writer.
/// Also the live alert loop's hash for series ids and metric names.
#[derive(Debug, Default)]
pub(crate) struct Fnv(u64);

/// Hash maps keyed with [`Fnv`].
pub(crate) type FnvBuild = std::hash::BuildHasherDefault<Fnv>;

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

const TRACE_CACHE_MAX: usize = 200_000;

impl TraceCache {
    fn resolve(&mut self, tx: &rusqlite::Transaction<'_>, trace: &str) -> Result<i64> {
        if let Some(id) = self.ids.get(trace) {
            return Ok(*id);
        }
        let mut sel = tx.prepare_cached("SELECT id FROM traces WHERE trace_id = ?1")?;
        let id = match sel
            .query_row(params![trace], |r| r.get::<_, i64>(0))
            .optional()?
        {
            Some(id) => id,
            None => {
                let mut ins = tx.prepare_cached("INSERT INTO traces (trace_id) VALUES (?1)")?;
                ins.execute(params![trace])?;
                tx.last_insert_rowid()
            }
        };
        if self.ids.len() >= TRACE_CACHE_MAX {
            self.ids.clear();
        }
        self.ids.insert(trace.to_owned(), id);
        Ok(id)
    }
}

/// Past this many WAL bytes the writer checkpoints itself, in case the checkpointer cannot
/// keep up: the WAL stays bounded whatever the ingest size.
const WAL_HARD_LIMIT: u64 = 512 << 20;

fn writer_loop(
    mut conn: Connection,
    rx: Receiver<Msg>,
    path: PathBuf,
    mut series: SeriesCache,
    prices: crate::pricing::PriceTable,
) {
    let mut traces = TraceCache::default();
    let (ckpt_tx, ckpt_rx) = sync_channel::<()>(1);
    let ckpt = open_checkpointer(&path).ok().and_then(|c| {
        std::thread::Builder::new()
            .name("sightline-ckpt".into())
            .spawn(move || {
                // Each signal: copy what the WAL holds back into the database, alongside the
                // writer (PASSIVE never blocks it).
                while ckpt_rx.recv().is_ok() {
                    let _ = c.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                }
            })
            .ok()
    });
    let mut wal_path = path.clone().into_os_string();
    wal_path.push("-wal");
    let wal_path = PathBuf::from(wal_path);
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::CreateSource(s, reply) => {
                let _ = reply.send(create_source(&conn, &s));
            }
            Msg::Samples(b, reply) => {
                let r = (|| {
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    write_samples(&tx, &b.samples, &b.metric_meta, &mut series)?;
                    tx.commit()?;
                    Ok(())
                })();
                series.committed(r.is_ok());
                if r.is_err() {
                    series.ids.clear();
                }
                let _ = reply.send(r);
            }
            Msg::Exec(f, reply) => {
                let r = f(&mut conn);
                series.ids.clear();
                let _ = reply.send(r);
            }
            Msg::Batch(b, reply) => {
                let r = write_batch(&mut conn, &b, &mut traces, &mut series, &prices);
                series.committed(r.is_ok());
                if r.is_err() {
                    // Ids cached during the rolled-back transaction do not exist.
                    traces.ids.clear();
                    series.ids.clear();
                }
                let _ = reply.send((r, b));
                if ckpt.is_some() {
                    let _ = ckpt_tx.try_send(());
                }
                let wal = std::fs::metadata(&wal_path).map_or(0, |m| m.len());
                if ckpt.is_none() || wal > WAL_HARD_LIMIT {
                    let _ = conn.execute_batch("PRAGMA wal_checkpoint(RESTART)");
                }
            }
        }
    }
    drop(ckpt_tx);
    if let Some(j) = ckpt {
        let _ = j.join();
    }
    // All handles dropped: checkpoint so the WAL does not linger.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

fn create_source(conn: &Connection, s: &NewSource) -> Result<i64> {
    let now = now_ns();
    conn.execute(
        "INSERT INTO sources (path, fingerprint, fp_head, compression, first_ingest, last_ingest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![s.path, s.fingerprint, s.fp_head, s.compression, now],
    )?;
    Ok(conn.last_insert_rowid())
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn write_batch(
    conn: &mut Connection,
    b: &Batch,
    traces: &mut TraceCache,
    series: &mut SeriesCache,
    prices: &crate::pricing::PriceTable,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO logs (ts, level, message, source_id, line, byte_offset, byte_len,
                               format, flags, trace_ref, span_id, parent_span_id, attrs)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut fts = tx.prepare_cached("INSERT INTO logs_fts (rowid, message) VALUES (?1, ?2)")?;
        let mut counts: HashMap<(i64, i64), i64> = HashMap::new();
        let mut buckets: HashMap<(i64, i64), i64> = HashMap::new();
        for r in &b.records {
            let trace_ref = match &r.trace_id {
                Some(t) => Some(traces.resolve(&tx, t)?),
                None => None,
            };
            ins.execute(params![
                r.ts,
                r.level as i64,
                r.message,
                b.source_id,
                to_i64(r.line),
                to_i64(r.byte_offset),
                r.byte_len,
                r.format as i64,
                r.flags,
                trace_ref,
                r.span_id,
                r.parent_span_id,
                r.attrs,
            ])?;
            if !r.message.is_empty() {
                fts.execute(params![tx.last_insert_rowid(), r.message])?;
            }
            *counts.entry((r.level as i64, r.format as i64)).or_default() += 1;
            *buckets
                .entry((r.level as i64, r.ts.div_euclid(1_000_000_000)))
                .or_default() += 1;
        }
        let mut bucket = tx.prepare_cached(
            "INSERT INTO log_buckets (source_id, level, t, n) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (source_id, level, t) DO UPDATE SET n = n + excluded.n",
        )?;
        for ((level, t), n) in buckets {
            bucket.execute(params![b.source_id, level, t, n])?;
        }
        let mut cnt = tx.prepare_cached(
            "INSERT INTO record_counts (source_id, level, format, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (source_id, level, format) DO UPDATE SET count = count + excluded.count",
        )?;
        for ((level, format), n) in counts {
            cnt.execute(params![b.source_id, level, format, n])?;
        }
        write_spans(&tx, b, traces, prices)?;
        write_samples(&tx, &b.samples, &b.metric_meta, series)?;
        let mut skip = tx.prepare_cached(
            "INSERT OR IGNORE INTO skipped_lines (source_id, line, reason, detail)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for s in &b.skips {
            skip.execute(params![b.source_id, to_i64(s.line), s.reason, s.detail])?;
        }
        let c = &b.cursor;
        tx.execute(
            "UPDATE sources SET offset = ?1, next_line = ?2, framing = COALESCE(?3, framing),
                    format = COALESCE(?4, format), last_ingest = ?5, path = COALESCE(?6, path)
             WHERE id = ?7",
            params![
                to_i64(c.offset),
                to_i64(c.next_line),
                c.framing,
                c.format.map(|f| f as i64),
                now_ns(),
                c.path,
                b.source_id
            ],
        )?;
        if let Some((fp, head)) = &c.fingerprint {
            tx.execute(
                "UPDATE sources SET fingerprint = ?1, fp_head = ?2 WHERE id = ?3",
                params![fp, head, b.source_id],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Rebuilds the roll-up rows of these runs (trace refs) from their spans.
pub(crate) fn refresh_runs(tx: &rusqlite::Transaction<'_>, traces: &[i64]) -> Result<()> {
    let mut run = tx.prepare_cached(
        "INSERT OR REPLACE INTO runs (trace_ref, root_span_id, name, status, start_ns, end_ns,
                                      spans, llm_calls, tool_calls, errors, input_tokens,
                                      output_tokens, cost)
         SELECT ?1, r.span_id, COALESCE(r.name, ''), COALESCE(r.status, 0), a.s, a.e, a.n,
                a.llm, a.tool, a.err, a.itok, a.otok, a.cost
         FROM (SELECT min(start_ns) AS s, max(end_ns) AS e, count(*) AS n,
                      total(kind = 2) AS llm, total(kind = 3) AS tool, total(status = 2) AS err,
                      total(CASE WHEN kind = 2 THEN input_tokens END) AS itok,
                      total(CASE WHEN kind = 2 THEN output_tokens END) AS otok,
                      total(CASE WHEN kind IN (2, 3) THEN cost END) AS cost
               FROM spans WHERE trace_ref = ?1) a
         LEFT JOIN (SELECT span_id, name, status FROM spans p
                    WHERE p.trace_ref = ?1
                      AND (p.parent_span_id IS NULL
                           OR NOT EXISTS (SELECT 1 FROM spans q WHERE q.trace_ref = ?1
                                          AND q.span_id = p.parent_span_id))
                    ORDER BY p.parent_span_id IS NOT NULL, p.start_ns LIMIT 1) r",
    )?;
    for t in traces {
        run.execute(params![t])?;
    }
    Ok(())
}

/// `spans.cost_source`: 1 stated by the data, 2 computed from a price (migration 0008).
pub fn cost_source(s: &Span) -> Option<i64> {
    s.cost.map(|_| if s.price_ref.is_some() { 2 } else { 1 })
}

/// Merges the batch's spans into the workspace: fragments of one span within the batch
/// first, then each with the row already stored, if any. Then refreshes the roll-up of every
/// run the batch touched.
fn write_spans(
    tx: &rusqlite::Transaction<'_>,
    b: &Batch,
    traces: &mut TraceCache,
    prices: &crate::pricing::PriceTable,
) -> Result<()> {
    if b.spans.is_empty() {
        return Ok(());
    }
    let mut order: Vec<Span> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for s in &b.spans {
        match index.get(&(s.trace_id.as_str(), s.span_id.as_str())) {
            Some(&i) => order[i].merge(s.clone()),
            None => {
                index.insert((s.trace_id.as_str(), s.span_id.as_str()), order.len());
                order.push(s.clone());
            }
        }
    }
    drop(index);
    let select = format!(
        "SELECT s.id, {SPAN_COLUMNS} FROM spans s WHERE s.trace_ref = ?1 AND s.span_id = ?2"
    );
    let mut sel = tx.prepare_cached(&select)?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO spans (trace_ref, span_id, parent_span_id, name, kind, start_ns, end_ns,
                            status, status_message, provider, model, input_tokens, output_tokens,
                            cache_read_tokens, cache_write_tokens, cost, tool_name, format, whole,
                            source_id, line, attrs, cost_source, price_ref)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    )?;
    let mut upd = tx.prepare_cached(
        "UPDATE spans SET parent_span_id = ?2, name = ?3, kind = ?4, start_ns = ?5, end_ns = ?6,
                status = ?7, status_message = ?8, provider = ?9, model = ?10, input_tokens = ?11,
                output_tokens = ?12, cache_read_tokens = ?13, cache_write_tokens = ?14,
                cost = ?15, tool_name = ?16, format = ?17, whole = ?18, line = ?19, attrs = ?20,
                cost_source = ?21, price_ref = ?22
         WHERE id = ?1",
    )?;
    let mut touched: Vec<i64> = Vec::new();
    let mut touched_set: std::collections::HashSet<i64> = Default::default();
    for span in order {
        let tref = traces.resolve(tx, &span.trace_id)?;
        if touched_set.insert(tref) {
            touched.push(tref);
        }
        let existing = sel
            .query_row(params![tref, span.span_id], |r| {
                Ok((r.get::<_, i64>(0)?, span_from_row(r, 1, &span.trace_id)?))
            })
            .optional()?;
        match existing {
            Some((id, mut old)) => {
                old.merge(span);
                let mut s = old;
                crate::pricing::price_span(&mut s, prices);
                upd.execute(params![
                    id,
                    s.parent_span_id,
                    s.name,
                    s.kind as i64,
                    s.start_ns,
                    s.end_ns,
                    s.status as i64,
                    s.status_message,
                    s.provider,
                    s.model,
                    s.input_tokens,
                    s.output_tokens,
                    s.cache_read_tokens,
                    s.cache_write_tokens,
                    s.cost,
                    s.tool_name,
                    s.format as i64,
                    s.whole,
                    to_i64(s.line),
                    s.attrs,
                    cost_source(&s),
                    s.price_ref,
                ])?;
            }
            None => {
                let mut s = span;
                crate::pricing::price_span(&mut s, prices);
                ins.execute(params![
                    tref,
                    s.span_id,
                    s.parent_span_id,
                    s.name,
                    s.kind as i64,
                    s.start_ns,
                    s.end_ns,
                    s.status as i64,
                    s.status_message,
                    s.provider,
                    s.model,
                    s.input_tokens,
                    s.output_tokens,
                    s.cache_read_tokens,
                    s.cache_write_tokens,
                    s.cost,
                    s.tool_name,
                    s.format as i64,
                    s.whole,
                    b.source_id,
                    to_i64(s.line),
                    s.attrs,
                    cost_source(&s),
                    s.price_ref,
                ])?;
            }
        }
    }
    refresh_runs(tx, &touched)
}

/// Series ids by (metric, canonical labels JSON), so most samples need no lookup; and the
/// samples of the transaction in progress, for the feed.
#[derive(Debug, Default)]
struct SeriesCache {
    ids: HashMap<(String, String), i64>,
    feed: Arc<SampleFeed>,
    pending: Option<FedBatch>,
}

impl SeriesCache {
    /// After a commit (or a rollback): hands the transaction's samples to the feed.
    fn committed(&mut self, ok: bool) {
        if let Some(b) = self.pending.take()
            && ok
        {
            self.feed.push(b);
        }
    }
}

const SERIES_CACHE_MAX: usize = 500_000;

/// The canonical JSON of a label set (keys sorted: the input is sorted).
pub fn labels_json(labels: &[(String, String)]) -> String {
    let mut out = String::with_capacity(2 + labels.len() * 16);
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        out.push_str(&serde_json::to_string(v).unwrap_or_default());
    }
    out.push('}');
    out
}

/// The id of a series (metric + canonical labels JSON), created on first sight; `ids` caches
/// what was looked up in this transaction or before.
pub(crate) fn resolve_series(
    tx: &rusqlite::Transaction<'_>,
    ids: &mut HashMap<(String, String), i64>,
    metric: &str,
    labels: String,
    family: Option<&str>,
) -> Result<i64> {
    let key = (metric.to_string(), labels);
    if let Some(id) = ids.get(&key) {
        return Ok(*id);
    }
    let mut sel = tx.prepare_cached("SELECT id FROM series WHERE metric = ?1 AND labels = ?2")?;
    let id = match sel
        .query_row(params![key.0, key.1], |r| r.get::<_, i64>(0))
        .optional()?
    {
        Some(id) => id,
        None => {
            let mut ins = tx.prepare_cached(
                "INSERT INTO series (metric, labels, family) VALUES (?1, ?2, ?3)",
            )?;
            ins.execute(params![key.0, key.1, family])?;
            tx.last_insert_rowid()
        }
    };
    ids.insert(key, id);
    Ok(id)
}

/// A sample value as stored: a number, or the text `NaN` / `stale`.
pub fn sample_value_sql(v: f64) -> rusqlite::types::Value {
    if crate::promql::is_stale(v) {
        rusqlite::types::Value::Text("stale".into())
    } else if v.is_nan() {
        rusqlite::types::Value::Text("NaN".into())
    } else {
        rusqlite::types::Value::Real(v)
    }
}

fn write_samples(
    tx: &rusqlite::Transaction<'_>,
    samples: &[MetricSample],
    meta: &[MetricMeta],
    cache: &mut SeriesCache,
) -> Result<()> {
    if samples.is_empty() && meta.is_empty() {
        return Ok(());
    }
    let mut fam = tx.prepare_cached(
        "INSERT INTO metric_families (name, kind, help, unit, derived) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,
             help = CASE WHEN excluded.help = '' THEN help ELSE excluded.help END,
             unit = CASE WHEN excluded.unit = '' THEN unit ELSE excluded.unit END,
             derived = excluded.derived",
    )?;
    let mut family_of: HashMap<&str, &str> = HashMap::new();
    for m in meta {
        fam.execute(params![m.family, m.kind, m.help, m.unit, m.derived])?;
        for n in &m.metrics {
            family_of.insert(n.as_str(), m.family.as_str());
        }
    }
    let mut ins =
        tx.prepare_cached("INSERT OR REPLACE INTO samples (series_id, t, v) VALUES (?1, ?2, ?3)")?;
    let want = cache.feed.wanted();
    let mut fed = Vec::with_capacity(if want { samples.len() } else { 0 });
    for s in samples {
        if cache.ids.len() >= SERIES_CACHE_MAX {
            cache.ids.clear();
        }
        let id = resolve_series(
            tx,
            &mut cache.ids,
            &s.metric,
            labels_json(&s.labels),
            family_of.get(s.metric.as_str()).copied(),
        )?;
        ins.execute(params![id, s.t_ms, sample_value_sql(s.value)])?;
        if want {
            fed.push((id, s.t_ms, s.value));
        }
    }
    if let Some(min_t) = samples.iter().map(|s| s.t_ms).min() {
        let seq = log_sample_write(tx, min_t)?;
        if want {
            cache.pending = Some((seq, Arc::new(fed)));
        }
    }
    Ok(())
}

/// Notes in `sample_writes` that samples from `min_t` on changed (see migration 0007).
pub(crate) fn log_sample_write(tx: &rusqlite::Transaction<'_>, min_t: i64) -> Result<i64> {
    tx.prepare_cached("INSERT INTO sample_writes (min_t) VALUES (?1)")?
        .execute([min_t])?;
    let seq = tx.last_insert_rowid();
    if seq % 1000 == 0 {
        tx.execute("DELETE FROM sample_writes WHERE seq <= ?1", [seq - 10_000])?;
    }
    Ok(seq)
}
