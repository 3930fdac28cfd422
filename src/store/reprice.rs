//! Repricing the workspace after its price file changed: every computed cost again, the
//! runs' roll-ups and the derived cost series. A write: it runs on the writer's connection.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::pricing::{Call, PriceTable, price_call};

/// What a recompute changed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Recomputed {
    /// Spans whose cost is computed (not stated by the data) that were priced again.
    pub spans: u64,
    /// Of which the cost (or its price entry) changed.
    pub changed: u64,
    pub before_usd: f64,
    pub after_usd: f64,
    /// Per model (tool calls under `tool:<name>`): cost before and after, only those that
    /// changed.
    pub by_model: Vec<RecomputedModel>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecomputedModel {
    pub model: String,
    pub calls: u64,
    pub before_usd: f64,
    pub after_usd: f64,
}

/// Prices again every span whose cost was computed (or whose origin an older version did not
/// record) with `table`, refreshes the runs' roll-ups, and says what changed. Costs the data
/// states are kept. Runs on the writer's connection.
pub fn recompute(conn: &mut Connection, table: &PriceTable) -> Result<Recomputed> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut out = Recomputed::default();
    let mut per: BTreeMap<String, RecomputedModel> = BTreeMap::new();
    let mut touched: Vec<i64> = Vec::new();
    {
        let mut st = tx.prepare(
            "SELECT id, trace_ref, kind, model, provider, tool_name, start_ns, input_tokens,
                    output_tokens, cache_read_tokens, cache_write_tokens, cost, price_ref
             FROM spans
             WHERE (cost_source IS NULL OR cost_source = 2)
               AND (model IS NOT NULL OR (kind = 3 AND tool_name IS NOT NULL))",
        )?;
        let mut upd = tx.prepare(
            "UPDATE spans SET cost = ?2, price_ref = ?3, cost_source = ?4 WHERE id = ?1",
        )?;
        let mut rows = st.query([])?;
        let mut last_trace = None;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let trace: i64 = r.get(1)?;
            let kind = crate::model::SpanKind::from_i64(r.get(2)?);
            let model: Option<String> = r.get(3)?;
            let provider: Option<String> = r.get(4)?;
            let tool: Option<String> = r.get(5)?;
            let old_cost: Option<f64> = r.get(11)?;
            let old_ref: Option<String> = r.get(12)?;
            // A cost from before migration 0008 without tokens was stated by the data.
            let (input, output): (Option<i64>, Option<i64>) = (r.get(7)?, r.get(8)?);
            if old_ref.is_none() && old_cost.is_some() && input.is_none() && output.is_none() {
                continue;
            }
            let priced = price_call(
                &Call {
                    kind,
                    model: model.as_deref(),
                    provider: provider.as_deref(),
                    tool: tool.as_deref(),
                    start_ns: r.get(6)?,
                    input,
                    output,
                    cache_read: r.get(9)?,
                    cache_write: r.get(10)?,
                },
                table,
            );
            out.spans += 1;
            let new_cost = priced.as_ref().map(|p| p.0);
            let new_ref = priced.map(|p| p.1);
            out.before_usd += old_cost.unwrap_or(0.0);
            out.after_usd += new_cost.unwrap_or(0.0);
            let same = new_ref == old_ref
                && match (old_cost, new_cost) {
                    (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
                    (None, None) => true,
                    _ => false,
                };
            if same {
                continue;
            }
            out.changed += 1;
            upd.execute(params![id, new_cost, new_ref, new_cost.map(|_| 2)])?;
            if last_trace != Some(trace) {
                touched.push(trace);
                last_trace = Some(trace);
            }
            let key = match (&model, &tool) {
                (Some(m), _) => m.clone(),
                (None, Some(t)) => format!("tool:{t}"),
                (None, None) => "(none)".into(),
            };
            let m = per.entry(key.clone()).or_insert_with(|| RecomputedModel {
                model: key,
                calls: 0,
                before_usd: 0.0,
                after_usd: 0.0,
            });
            m.calls += 1;
            m.before_usd += old_cost.unwrap_or(0.0);
            m.after_usd += new_cost.unwrap_or(0.0);
        }
    }
    touched.sort_unstable();
    touched.dedup();
    crate::store::writer::refresh_runs(&tx, &touched)?;
    tx.commit()?;
    if out.changed > 0 {
        crate::metrics::refresh(conn, &[], true)?;
    }
    out.by_model = per.into_values().collect();
    Ok(out)
}
