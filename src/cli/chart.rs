//! `sightline chart`: the app's cost, tokens, latency and error charts drawn to PNG or SVG
//! (or their data as JSON).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use sightline::charts::render::{self, Theme};
use sightline::charts::{self, ChartKind, ChartRequest};
use sightline::store::Store;
use sightline::store::queries::spans::find_run;
use sightline::time_arg::parse_duration_ns;

#[derive(Debug, clap::Args)]
pub struct Cmd {
    /// cost, tokens, latency or errors
    #[arg(value_name = "CHART")]
    chart: String,
    /// Write the chart here: FILE.png, FILE.svg, or FILE.json for its data
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Group by. cost: model, provider, tool, agent, trigger; tokens: type, model, provider,
    /// agent, trigger; latency and errors: kind, model, tool, operation, run
    #[arg(long, value_name = "WHAT")]
    by: Option<String>,
    /// From this time: RFC 3339, or a span back from now (15m, 2h, 7d); default: the data's start
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this time (exclusive); default: the data's end
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only this run: its trace id or a unique prefix
    #[arg(long, value_name = "ID")]
    run: Option<String>,
    /// Bucket size: hour, day, or a duration like 15m (default: at most 120 buckets)
    #[arg(long, value_name = "BUCKET")]
    per: Option<String>,
    /// Latency chart: the percentile drawn (50, 90, 95, 99, or 100 for the maximum)
    #[arg(long, default_value_t = 95.0, value_name = "P")]
    percentile: f64,
    /// At most this many series (the rest are summed into "other", or left out)
    #[arg(long, default_value_t = 8, value_name = "N")]
    top: usize,
    #[arg(long, default_value_t = 1000)]
    width: u32,
    #[arg(long, default_value_t = 500)]
    height: u32,
    /// light or dark
    #[arg(long, default_value = "light")]
    theme: String,
}

/// `--per`: hour, day or a duration.
pub fn bucket_arg(per: Option<&str>) -> anyhow::Result<Option<i64>> {
    Ok(match per {
        None => None,
        Some("hour") => Some(3_600_000_000_000),
        Some("day") => Some(86_400_000_000_000),
        Some(d) => {
            Some(parse_duration_ns(d).filter(|n| *n > 0).ok_or_else(|| {
                anyhow::anyhow!("--per {d:?}: use hour, day or a duration like 15m")
            })?)
        }
    })
}

/// PNG or SVG, from the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Svg,
    Json,
}

impl Cmd {
    pub fn run(self, db: &Path) -> anyhow::Result<ExitCode> {
        let kind = ChartKind::parse(&self.chart).ok_or_else(|| {
            anyhow::anyhow!(
                "{:?}: the charts are cost, tokens, latency and errors",
                self.chart
            )
        })?;
        let format = match self
            .output
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Format::Png,
            Some("svg") => Format::Svg,
            Some("json") => Format::Json,
            _ => anyhow::bail!(
                "{}: name the file .png, .svg or .json (that picks the format)",
                self.output.display()
            ),
        };
        let theme = Theme::parse(&self.theme)
            .ok_or_else(|| anyhow::anyhow!("--theme {:?}: use light or dark", self.theme))?;
        let (since_ns, until_ns) = super::time_range(self.since.as_deref(), self.until.as_deref())?;
        let store = Store::open_read_only(db)
            .with_context(|| format!("opening workspace {}", db.display()))?;
        let conn = store.reader()?;
        let trace_ref = match &self.run {
            Some(id) => Some(find_run(&conn, id)?.0),
            None => None,
        };
        let req = ChartRequest {
            kind,
            by: self.by.clone(),
            since_ns,
            until_ns,
            trace_ref,
            bucket_ns: bucket_arg(self.per.as_deref())?,
            percentile: self.percentile,
            top: self.top,
        };
        let chart = charts::build(&conn, &req)?;
        let bytes = match format {
            Format::Png => render::png(&chart, self.width, self.height, theme)?,
            Format::Svg => render::svg(&chart, self.width, self.height, theme)?.into_bytes(),
            Format::Json => serde_json::to_vec_pretty(&chart)?,
        };
        charts::save(&self.output, &bytes)?;
        if chart.is_empty() {
            eprintln!("sightline: no data in that range; the chart says so");
        }
        eprintln!(
            "wrote {} ({} series, {} buckets of {})",
            self.output.display(),
            chart.series.len(),
            chart.x_ms.len(),
            charts::bucket_words(chart.bucket_ms * 1_000_000)
        );
        Ok(ExitCode::SUCCESS)
    }
}
