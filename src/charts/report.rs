//! A self-contained HTML report: summary numbers, the four charts as inline SVG, cost by
//! model, by trigger and by tool, latency percentiles, the top runs and the alerts that
//! fired. No script, no stylesheet or font from elsewhere: it opens the same offline, in a
//! mail attachment or a CI artifact.

use std::fmt::Write as _;

use rusqlite::Connection;

use super::render::{self, Theme};
use super::{ChartKind, ChartRequest};
use crate::error::Result;
use crate::model::format_rfc3339_nanos;
use crate::store::queries::cost::{
    CostBy, CostQuery, CostRow, cost, run_extent, summary, top_runs, unpriced,
};
use crate::store::queries::latency::{LatencyBy, LatencyQuery, latency};

/// What a report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    /// The workspace's name, for the heading.
    pub workspace: String,
    /// Calls and runs that started in `[since, until)` (Unix ns); `None`: all.
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
    /// One run only: its `traces.id` and trace id.
    pub run: Option<(i64, String)>,
    pub theme: Theme,
}

/// The HTML text of the report.
pub fn html(conn: &Connection, req: &ReportRequest) -> Result<String> {
    let trace_ref = req.run.as_ref().map(|r| r.0);
    let q = |by: CostBy| CostQuery {
        by,
        since_ns: req.since_ns,
        until_ns: req.until_ns,
        trace_ref,
    };
    let sum = summary(conn, &q(CostBy::Model))?;
    let by_model = cost(conn, &q(CostBy::Model))?;
    let by_trigger = cost(conn, &q(CostBy::Trigger))?;
    let by_tool = cost(conn, &q(CostBy::Tool))?;
    let missing = unpriced(conn, &q(CostBy::Model))?;
    let runs = top_runs(conn, &q(CostBy::Run), 10)?;
    let lat = latency(
        conn,
        &LatencyQuery {
            by: LatencyBy::Kind,
            since_ns: req.since_ns,
            until_ns: req.until_ns,
            bucket_ns: None,
            trace_ref,
        },
    )?;
    let lat_model = latency(
        conn,
        &LatencyQuery {
            by: LatencyBy::Model,
            since_ns: req.since_ns,
            until_ns: req.until_ns,
            bucket_ns: None,
            trace_ref,
        },
    )?;
    let mut charts = Vec::new();
    for (kind, by) in [
        (ChartKind::Cost, "model"),
        (ChartKind::Tokens, "type"),
        (ChartKind::Latency, "kind"),
        (ChartKind::Errors, "kind"),
    ] {
        let chart = super::build(
            conn,
            &ChartRequest {
                by: Some(by.into()),
                since_ns: req.since_ns,
                until_ns: req.until_ns,
                trace_ref,
                ..ChartRequest::new(kind)
            },
        )?;
        let svg = render::svg(&chart, 960, 400, req.theme)?;
        charts.push((chart.title.clone(), strip_xml_decl(&svg).to_string()));
    }
    // The range the report covers, in words: what was asked, else the data's extent.
    let extent = run_extent(conn, &q(CostBy::Run))?;
    let from = req.since_ns.or(extent.map(|e| e.0));
    let to = req.until_ns.or(extent.map(|e| e.1));
    let fired = match (from, to) {
        (Some(a), Some(b)) => crate::alerts::status::fired_between(
            conn,
            a.div_euclid(1_000_000),
            b.div_euclid(1_000_000) + 1,
            200,
        )?,
        _ => Vec::new(),
    };

    let mut h = String::with_capacity(256 * 1024);
    let scope = match (&req.run, from, to) {
        (Some((_, id)), _, _) => format!("Run {}", esc(id)),
        (None, Some(a), Some(b)) => format!("{} to {}", when(a), when(b)),
        _ => "No runs".to_string(),
    };
    let dark = req.theme == Theme::Dark;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"Sightline {version}\">\
         <title>Sightline report: {ws}</title><style>{css}</style></head>\
         <body class=\"{theme}\"><header><h1>Sightline report: {ws}</h1>\
         <p class=\"muted\">{scope} · generated {now} by Sightline {version}</p></header>",
        version = env!("CARGO_PKG_VERSION"),
        ws = esc(&req.workspace),
        css = CSS,
        theme = if dark { "dark" } else { "light" },
        now = when(crate::model::now_ns()),
    );

    // Summary cards.
    h.push_str("<section class=\"cards\" id=\"summary\">");
    let card = |h: &mut String, label: &str, value: String, sub: String| {
        let _ = write!(
            h,
            "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>\
             <div class=\"muted\">{}</div></div>",
            esc(label),
            esc(&value),
            esc(&sub)
        );
    };
    card(
        &mut h,
        "Cost",
        usd(sum.cost_usd),
        if sum.unpriced_calls > 0 {
            format!("+ {} calls with no price", sum.unpriced_calls)
        } else {
            "all calls priced".into()
        },
    );
    card(
        &mut h,
        "Runs",
        sum.runs.to_string(),
        format!("{} failed", sum.failed_runs),
    );
    card(
        &mut h,
        "LLM calls",
        sum.llm_calls.to_string(),
        format!("{} tool calls", sum.tool_calls),
    );
    card(
        &mut h,
        "Failed calls",
        sum.failed_calls.to_string(),
        pct(sum.failed_calls, sum.llm_calls + sum.tool_calls),
    );
    card(
        &mut h,
        "Tokens",
        format!("{} in", thousands(sum.input_tokens)),
        format!("{} out", thousands(sum.output_tokens)),
    );
    card(
        &mut h,
        "Run duration",
        sum.run_p50_s
            .map(|v| format!("p50 {}", secs(v)))
            .unwrap_or_else(|| "-".into()),
        sum.run_p95_s
            .map(|v| format!("p95 {}", secs(v)))
            .unwrap_or_default(),
    );
    h.push_str("</section>");

    // Charts.
    h.push_str("<section id=\"charts\">");
    for (title, svg) in &charts {
        let _ = write!(
            h,
            "<figure class=\"chart\" aria-label=\"{}\">{}</figure>",
            esc(title),
            svg
        );
    }
    h.push_str("</section>");

    // Top runs.
    h.push_str(
        "<section id=\"top-runs\"><h2>Top runs by cost</h2><table><thead><tr>\
         <th>Run</th><th>Name</th><th>Started (UTC)</th><th class=\"num\">Duration</th>\
         <th>Status</th><th class=\"num\">LLM calls</th><th class=\"num\">Tokens</th>\
         <th class=\"num\">Cost</th></tr></thead><tbody>",
    );
    if runs.is_empty() {
        h.push_str("<tr><td colspan=\"8\" class=\"muted\">No runs.</td></tr>");
    }
    for r in &runs {
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            esc(&r.trace_id),
            esc(&r.name),
            when(r.start_ns),
            secs(r.duration_ns as f64 / 1e9),
            if r.status == crate::model::SpanStatus::Error {
                "<span class=\"bad\">failed</span>"
            } else {
                "ok"
            },
            r.llm_calls,
            thousands((r.input_tokens + r.output_tokens).max(0) as u64),
            usd(r.cost)
        );
    }
    h.push_str("</tbody></table></section>");

    // Cost tables.
    cost_table(&mut h, "cost-by-model", "Cost by model", "Model", &by_model);
    cost_table(
        &mut h,
        "cost-by-trigger",
        "LLM spend by trigger",
        "Triggered by",
        &by_trigger,
    );
    h.push_str(
        "<p class=\"muted\">An LLM call is attributed to the tool calls and sub-agents whose \
         results it went on from; \u{201c}(input)\u{201d} is an agent's first call, \
         \u{201c}(llm)\u{201d} a call chained on the previous one.</p>",
    );
    if !by_tool.is_empty() {
        cost_table(&mut h, "cost-by-tool", "Tool calls", "Tool", &by_tool);
    }
    if !missing.is_empty() {
        h.push_str("<section id=\"unpriced\"><h2>Models with no price</h2><ul>");
        for m in &missing {
            let _ = write!(
                h,
                "<li>{} call{} to <code>{}</code> ({} input, {} output tokens)</li>",
                m.calls,
                if m.calls == 1 { "" } else { "s" },
                esc(&m.model),
                thousands(m.input_tokens),
                thousands(m.output_tokens)
            );
        }
        h.push_str("</ul></section>");
    }

    // Latency.
    h.push_str(
        "<section id=\"latency\"><h2>Latency</h2><table><thead><tr><th>Operation</th>\
         <th class=\"num\">Count</th><th class=\"num\">Errors</th><th class=\"num\">p50</th>\
         <th class=\"num\">p90</th><th class=\"num\">p95</th><th class=\"num\">p99</th>\
         <th class=\"num\">max</th></tr></thead><tbody>",
    );
    let mut run_lat = latency(
        conn,
        &LatencyQuery {
            by: LatencyBy::Run,
            since_ns: req.since_ns,
            until_ns: req.until_ns,
            bucket_ns: None,
            trace_ref,
        },
    )?;
    for r in run_lat.iter_mut() {
        r.key = "whole runs".into();
    }
    for (prefix, rows) in [("", &run_lat), ("", &lat), ("llm ", &lat_model)] {
        for r in rows.iter() {
            let _ = write!(
                h,
                "<tr><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                prefix,
                esc(&r.key),
                r.count,
                r.errors,
                secs(r.p50),
                secs(r.p90),
                secs(r.p95),
                secs(r.p99),
                secs(r.max)
            );
        }
    }
    h.push_str("</tbody></table></section>");

    // Alerts.
    h.push_str("<section id=\"alerts\"><h2>Alerts that fired</h2>");
    if fired.is_empty() {
        h.push_str("<p class=\"muted\">None in this range.</p>");
    } else {
        h.push_str(
            "<table><thead><tr><th>Fired (UTC)</th><th>Alert</th><th>Labels</th>\
             <th class=\"num\">Value</th></tr></thead><tbody>",
        );
        for a in &fired {
            let labels: Vec<String> = a
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "alertname")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td></tr>",
                when((a.t_ms as i64).saturating_mul(1_000_000)),
                esc(&a.rule),
                esc(&labels.join(", ")),
                a.value.map(|v| format!("{v:.4}")).unwrap_or_default()
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section></body></html>\n");
    Ok(h)
}

fn cost_table(h: &mut String, id: &str, title: &str, key: &str, rows: &[CostRow]) {
    let _ = write!(
        h,
        "<section id=\"{id}\"><h2>{}</h2><table><thead><tr><th>{}</th>\
         <th class=\"num\">Calls</th><th class=\"num\">Errors</th>\
         <th class=\"num\">Input tokens</th><th class=\"num\">Output tokens</th>\
         <th class=\"num\">Cost</th></tr></thead><tbody>",
        esc(title),
        esc(key)
    );
    if rows.is_empty() {
        h.push_str("<tr><td colspan=\"6\" class=\"muted\">No calls.</td></tr>");
    }
    for r in rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r.key),
            r.calls,
            r.errors,
            thousands(r.input_tokens),
            thousands(r.output_tokens),
            usd(r.cost_usd)
        );
    }
    h.push_str("</tbody></table></section>");
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn strip_xml_decl(svg: &str) -> &str {
    match svg.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(svg, |(_, body)| body.trim_start()),
        None => svg,
    }
}

fn when(ns: i64) -> String {
    let s = format_rfc3339_nanos(ns);
    s.get(..19).unwrap_or(&s).replace('T', " ")
}

fn usd(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("${v:.2}")
    } else {
        format!("${v:.4}")
    }
}

fn secs(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v < 1.0 {
        format!("{:.0} ms", v * 1000.0)
    } else {
        format!("{v:.2} s")
    }
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        "of no calls".into()
    } else {
        format!("{:.1}% of calls", 100.0 * n as f64 / of as f64)
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI','DejaVu Sans',sans-serif;margin:0 auto;
 max-width:1000px;padding:24px}
body.light{background:#fff;color:#1f2328}body.dark{background:#1e1f22;color:#dfe1e5}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.muted{color:#656d76}.dark .muted{color:#9aa0a8}.bad{color:#cf222e;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:18px 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 12px}.dark .card{border-color:#3a3d42}
.card .label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#656d76}
.card .value{font-size:20px;font-weight:600;margin:2px 0}
figure.chart{margin:16px 0}figure.chart svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #d0d7de}
.dark th,.dark td{border-color:#3a3d42}th{font-weight:600;font-size:12px}
.num{text-align:right}.mono,code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px}
";
