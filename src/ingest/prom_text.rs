//! Prometheus text format 0.0.4 and OpenMetrics 1.0 exposition, parsed by hand for speed
//! (bytes, one pass per line, no regex).
//!
//! - [`parse_openmetrics`] is strict, as the OpenMetrics spec and its official parser test
//!   suite demand: the first violation rejects the exposition, with its line and column.
//! - [`parse_text`] reads the classic text format leniently, as files on disk deserve: a bad
//!   line is reported (line, column, why) and skipped, and every good sample is kept.
//!
//! Samples keep their full names (`x_bucket`, `x_total`…) as Prometheus stores them; each
//! family carries its type, help and unit.

use std::collections::{HashMap, HashSet};

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::GaugeHistogram => "gaugehistogram",
            MetricKind::Summary => "summary",
            MetricKind::Info => "info",
            MetricKind::StateSet => "stateset",
            MetricKind::Unknown => "unknown",
        }
    }

    pub fn from_name(s: &str) -> Option<MetricKind> {
        Some(match s {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "histogram" => MetricKind::Histogram,
            "gaugehistogram" => MetricKind::GaugeHistogram,
            "summary" => MetricKind::Summary,
            "info" => MetricKind::Info,
            "stateset" => MetricKind::StateSet,
            "unknown" => MetricKind::Unknown,
            _ => return None,
        })
    }

    /// Suffixes a sample of this family may carry after the family name.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricKind::Counter => &["_total", "_created"],
            MetricKind::Gauge | MetricKind::StateSet | MetricKind::Unknown => &[""],
            MetricKind::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricKind::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
            MetricKind::Summary => &["", "_count", "_sum", "_created"],
            MetricKind::Info => &["_info"],
        }
    }
}

/// An exemplar attached to a sample.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exemplar {
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExpoSample {
    /// The full sample name (`x_bucket`, `x_total`, `x`).
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// The sample's own time (Unix ms), when the exposition gives one.
    pub timestamp_ms: Option<i64>,
    pub exemplar: Option<Exemplar>,
    pub line: u32,
}

/// A metric family: metadata and samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Family {
    pub name: String,
    pub kind: MetricKind,
    pub help: Option<String>,
    pub unit: Option<String>,
    pub samples: Vec<ExpoSample>,
}

/// A problem at a place in the exposition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ExpoError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Exposition {
    pub families: Vec<Family>,
    /// Lines skipped by the lenient text parser (always empty for OpenMetrics).
    pub problems: Vec<ExpoError>,
    /// Rules of the OpenMetrics spec the text breaks although it was read in full.
    pub notes: Vec<ExpoError>,
    pub openmetrics: bool,
}

impl Exposition {
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }
}

/// Whether text looks like OpenMetrics (its last line is `# EOF`).
pub fn looks_like_openmetrics(text: &[u8]) -> bool {
    let t = trim_ascii_end(text);
    t.ends_with(b"# EOF") && (t.len() == 5 || t[..t.len() - 5].ends_with(b"\n"))
}

/// Parses either format: OpenMetrics when the content type says so or the text ends in
/// `# EOF`, otherwise the text format.
///
/// OpenMetrics that breaks the spec's semantic rules but not its syntax (a negative histogram
/// sum, a counter without `_total`: Prometheus' own scraper takes both) is still read, with
/// the violation as a problem; text that only ends like OpenMetrics is read as text.
pub fn parse_exposition(text: &[u8], content_type: Option<&str>) -> Result<Exposition, ExpoError> {
    let declared_om = content_type.is_some_and(|c| c.contains("application/openmetrics-text"));
    if !(declared_om || looks_like_openmetrics(text)) {
        return Ok(parse_text(text));
    }
    let strict_err = match parse_openmetrics(text) {
        Ok(e) => return Ok(e),
        Err(e) => e,
    };
    match parse_openmetrics_lax(text) {
        Ok(mut e) => {
            e.notes.push(ExpoError {
                message: format!("not valid OpenMetrics, read anyway: {}", strict_err.message),
                ..strict_err
            });
            Ok(e)
        }
        Err(lax_err) if declared_om => Err(lax_err),
        Err(_) => {
            let e = parse_text(text);
            if e.problems.is_empty() {
                Ok(e)
            } else {
                Err(strict_err)
            }
        }
    }
}

/// Whether the start of a file reads as an exposition: `# HELP` / `# TYPE` / `# UNIT` first,
/// or a first line shaped `name{labels} number`.
pub fn looks_like_exposition(head: &[u8]) -> bool {
    let mut lines = head
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(first) = lines.find(|l| !l.iter().all(|c| c.is_ascii_whitespace())) else {
        return false;
    };
    if first.starts_with(b"# HELP ")
        || first.starts_with(b"# TYPE ")
        || first.starts_with(b"# UNIT ")
    {
        return true;
    }
    if !first.first().copied().is_some_and(is_name_start) {
        return false;
    }
    text_sample(first, 1).is_ok()
}

/// The exposition's samples as workspace samples (at their own time, else `default_t_ms`),
/// and its families' metadata.
pub fn to_samples(
    e: &Exposition,
    default_t_ms: i64,
) -> (
    Vec<crate::model::MetricSample>,
    Vec<crate::model::MetricMeta>,
) {
    let mut samples = Vec::with_capacity(e.sample_count());
    let mut meta = Vec::with_capacity(e.families.len());
    for f in &e.families {
        let mut names: Vec<String> = Vec::new();
        for s in &f.samples {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
            samples.push(crate::model::MetricSample {
                metric: s.name.clone(),
                labels: crate::model::canonical_labels(s.labels.clone()),
                t_ms: s.timestamp_ms.unwrap_or(default_t_ms),
                value: s.value,
            });
        }
        meta.push(crate::model::MetricMeta {
            family: f.name.clone(),
            metrics: names,
            kind: f.kind.as_str(),
            help: f.help.clone().unwrap_or_default(),
            unit: f.unit.clone().unwrap_or_default(),
            derived: false,
        });
    }
    (samples, meta)
}

fn trim_ascii_end(b: &[u8]) -> &[u8] {
    let mut e = b.len();
    while e > 0 && matches!(b[e - 1], b'\n' | b'\r' | b' ' | b'\t') {
        e -= 1;
    }
    &b[..e]
}

fn err(line: u32, column: usize, message: impl Into<String>) -> ExpoError {
    ExpoError {
        line,
        column: column as u32 + 1,
        message: message.into(),
    }
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

fn is_label_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_label_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

type CharClass = fn(u8) -> bool;

/// Labels, and the quoted metric name when the text format puts it inside the braces.
type ParsedLabels = (Vec<(String, String)>, Option<String>);

/// A cursor over one line.
struct Line<'a> {
    b: &'a [u8],
    i: usize,
    no: u32,
}

impl<'a> Line<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn err(&self, m: impl Into<String>) -> ExpoError {
        err(self.no, self.i, m)
    }

    fn name(&mut self, label: bool) -> Result<&'a str, ExpoError> {
        let start = self.i;
        let (first, rest): (CharClass, CharClass) = if label {
            (is_label_start, is_label_char)
        } else {
            (is_name_start, is_name_char)
        };
        match self.peek() {
            Some(c) if first(c) => self.i += 1,
            _ => {
                return Err(self.err(if label {
                    "expected a label name"
                } else {
                    "expected a metric name"
                }));
            }
        }
        while self.peek().is_some_and(rest) {
            self.i += 1;
        }
        // Names are ASCII by construction.
        Ok(std::str::from_utf8(&self.b[start..self.i]).unwrap_or_default())
    }

    /// A double-quoted string with `\\`, `\"`, `\n` escapes (others kept as written).
    fn quoted(&mut self) -> Result<String, ExpoError> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a quoted value"));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated quoted value")),
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    match self.b.get(self.i + 1) {
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'"') => out.push(b'"'),
                        Some(b'n') => out.push(b'\n'),
                        Some(&c) => {
                            out.push(b'\\');
                            out.push(c);
                        }
                        None => return Err(self.err("unterminated quoted value")),
                    }
                    self.i += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.err("a label value is not UTF-8"))
    }

    /// `{a="b",c="d"}`; `strict` forbids a trailing comma and spaces. In the text format a
    /// quoted name alone is the metric name (`{"my.metric", a="b"}`), returned separately.
    fn labels(&mut self, strict: bool) -> Result<ParsedLabels, ExpoError> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut quoted_name = None;
        self.i += 1; // {
        let skip_ws = |l: &mut Line| {
            if !strict {
                while matches!(l.peek(), Some(b' ' | b'\t')) {
                    l.i += 1;
                }
            }
        };
        skip_ws(self);
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok((out, None));
        }
        loop {
            skip_ws(self);
            let name = if !strict && self.peek() == Some(b'"') {
                let n = self.quoted()?;
                skip_ws(self);
                if self.peek() != Some(b'=') {
                    if quoted_name.is_some() {
                        return Err(self.err("two metric names in one sample"));
                    }
                    quoted_name = Some(n);
                    None
                } else {
                    Some(n)
                }
            } else {
                Some(self.name(true)?.to_string())
            };
            if let Some(name) = name {
                skip_ws(self);
                if self.peek() != Some(b'=') {
                    return Err(self.err(format!("expected = after label {name}")));
                }
                self.i += 1;
                skip_ws(self);
                let value = self.quoted()?;
                if out.iter().any(|(n, _)| *n == name) {
                    return Err(self.err(format!("label {name} appears twice")));
                }
                out.push((name, value));
            }
            skip_ws(self);
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    skip_ws(self);
                    if self.peek() == Some(b'}') {
                        if strict {
                            return Err(self.err("a trailing comma before }"));
                        }
                        self.i += 1;
                        return Ok((out, quoted_name));
                    }
                }
                Some(b'}') => {
                    self.i += 1;
                    return Ok((out, quoted_name));
                }
                _ => return Err(self.err("expected , or } in the label set")),
            }
        }
    }

    /// The next token up to a space (or the end).
    fn token(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(|c| c != b' ' && c != b'\t') {
            self.i += 1;
        }
        std::str::from_utf8(&self.b[start..self.i]).unwrap_or("\u{fffd}")
    }
}

/// A float as the exposition formats allow: decimal with optional exponent, `NaN`,
/// `+Inf`/`-Inf`/`Inf`; never hex, octal, binary or underscores.
fn parse_float(s: &str, strict: bool) -> Option<f64> {
    match s {
        "NaN" => return Some(f64::NAN),
        "+Inf" | "Inf" => return Some(f64::INFINITY),
        "-Inf" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if !strict {
        match s.to_ascii_lowercase().as_str() {
            "nan" => return Some(f64::NAN),
            "+inf" | "inf" => return Some(f64::INFINITY),
            "-inf" => return Some(f64::NEG_INFINITY),
            _ => {}
        }
    }
    let b = s.as_bytes();
    if b.is_empty()
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>()
        .ok()
        .filter(|_| b.iter().any(|c| c.is_ascii_digit()))
}

/// Unescapes HELP text (`\\`, `\n`; OpenMetrics adds `\"`).
fn unescape_help(s: &str, om: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if om => out.push('"'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// OpenMetrics (strict)

/// Parses OpenMetrics 1.0 text, rejecting the first violation of the spec.
pub fn parse_openmetrics(text: &[u8]) -> Result<Exposition, ExpoError> {
    parse_om(text, true)
}

/// OpenMetrics syntax without the spec's semantic rules (what Prometheus' own scraper
/// accepts): negative histogram sums, counters named without `_total`, families that
/// repeat, blank lines.
pub fn parse_openmetrics_lax(text: &[u8]) -> Result<Exposition, ExpoError> {
    parse_om(text, false)
}

fn parse_om(text: &[u8], strict: bool) -> Result<Exposition, ExpoError> {
    let mut p = OmParser {
        strict,
        ..Default::default()
    };
    let mut lines = text.split(|&c| c == b'\n').enumerate().peekable();
    let mut saw_eof = false;
    while let Some((i, raw)) = lines.next() {
        let no = i as u32 + 1;
        if saw_eof {
            // Only the empty remainder after a final newline may follow `# EOF`.
            if !raw.is_empty() || lines.peek().is_some() {
                return Err(err(no, 0, "text after # EOF"));
            }
            break;
        }
        if raw == b"# EOF" {
            saw_eof = true;
            continue;
        }
        if raw.is_empty() {
            if lines.peek().is_none() {
                break;
            }
            if !strict {
                continue;
            }
            return Err(err(no, 0, "a blank line (OpenMetrics allows none)"));
        }
        if raw.starts_with(b"# EOF") {
            return Err(err(no, 5, "text after # EOF"));
        }
        let line = std::str::from_utf8(raw).map_err(|e| err(no, e.valid_up_to(), "not UTF-8"))?;
        if line.starts_with('#') {
            p.metadata(line, no)?;
        } else {
            p.sample(raw, no)?;
        }
    }
    if !saw_eof {
        return Err(err(
            text.split(|&c| c == b'\n').count() as u32,
            0,
            "no # EOF at the end",
        ));
    }
    p.finish()
}

#[derive(Default)]
struct OmParser {
    /// Enforce the spec's semantics (values, buckets, grouping), not just its syntax.
    strict: bool,
    families: Vec<Family>,
    /// Metadata seen per family (help, type, unit), and whether samples started.
    meta: HashMap<String, (bool, bool, bool)>,
    /// Families that are over: no more samples or metadata may name them.
    closed: HashSet<String>,
    current: Option<usize>,
    has_samples: bool,
    /// Metric points of the current family: seen keys, and the current one.
    points_done: HashSet<String>,
    point: Option<String>,
    point_state: PointState,
    /// Series seen in the current family: (timestamped?, last timestamp).
    series: HashMap<String, (bool, Option<i64>)>,
}

#[derive(Default, Clone)]
struct PointState {
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: Option<f64>,
    after_buckets: bool,
    line: u32,
}

impl OmParser {
    fn family_of_name(&self, name: &str) -> Option<usize> {
        self.current.filter(|&i| {
            let f = &self.families[i];
            name.strip_prefix(f.name.as_str()).is_some_and(|suf| {
                f.kind.suffixes().contains(&suf) || (!self.strict && suf.is_empty())
            })
        })
    }

    fn close_current(&mut self) -> Result<(), ExpoError> {
        self.end_point()?;
        if let Some(i) = self.current.take() {
            self.closed.insert(self.families[i].name.clone());
        }
        self.points_done.clear();
        self.series.clear();
        self.has_samples = false;
        Ok(())
    }

    /// Whether `name` (a new family's or sample's name) belongs to a family already over.
    fn clashes(&self, name: &str, kind: Option<MetricKind>) -> Option<String> {
        if !self.strict {
            return None;
        }
        if self.closed.contains(name) {
            return Some(format!(
                "metric family {name} appears again after other families"
            ));
        }
        for f in &self.families {
            if Some(&f.name) == self.current.map(|i| &self.families[i].name) {
                continue;
            }
            for suf in f.kind.suffixes() {
                if !suf.is_empty() && format!("{}{suf}", f.name) == name {
                    return Some(format!(
                        "{name} clashes with the samples of family {}",
                        f.name
                    ));
                }
            }
            if let Some(k) = kind {
                for suf in k.suffixes() {
                    if !suf.is_empty() && format!("{name}{suf}") == f.name {
                        return Some(format!("family {name} would clash with family {}", f.name));
                    }
                }
            }
        }
        None
    }

    fn open_family(&mut self, name: &str, kind: MetricKind, no: u32) -> Result<usize, ExpoError> {
        self.close_current()?;
        if let Some(m) = self.clashes(name, Some(kind)) {
            return Err(err(no, 0, m));
        }
        self.families.push(Family {
            name: name.to_string(),
            kind,
            help: None,
            unit: None,
            samples: Vec::new(),
        });
        self.current = Some(self.families.len() - 1);
        Ok(self.families.len() - 1)
    }

    fn metadata(&mut self, line: &str, no: u32) -> Result<(), ExpoError> {
        let rest = line.strip_prefix("# ").ok_or_else(|| {
            err(
                no,
                1,
                "a comment that is not # HELP, # TYPE, # UNIT or # EOF",
            )
        })?;
        let (kw, rest) = match rest.split_once(' ') {
            Some(x) => x,
            None => return Err(err(no, 2, format!("# {rest} needs a metric name"))),
        };
        if !matches!(kw, "HELP" | "TYPE" | "UNIT") {
            return Err(err(no, 2, format!("unknown metadata # {kw}")));
        }
        let mut l = Line {
            b: rest.as_bytes(),
            i: 0,
            no,
        };
        let name = l.name(false).map_err(|mut e| {
            e.column += 2 + kw.len() as u32 + 1;
            e
        })?;
        let col = 2 + kw.len() + 1 + name.len();
        let value = match l.peek() {
            Some(b' ') => &rest[name.len() + 1..],
            None => {
                return Err(err(
                    no,
                    col,
                    format!("# {kw} {name} needs a value after a space"),
                ));
            }
            Some(_) => {
                return Err(err(
                    no,
                    col,
                    format!("unexpected character after the name in # {kw}"),
                ));
            }
        };
        // Metadata opens a family, or must belong to the current one before its samples.
        let idx = match self.current {
            Some(i) if self.families[i].name == name => {
                if self.has_samples && self.strict {
                    return Err(err(no, 0, format!("# {kw} for {name} after its samples")));
                }
                i
            }
            _ => {
                let kind = if kw == "TYPE" {
                    MetricKind::from_name(value)
                        .ok_or_else(|| err(no, col + 1, format!("unknown metric type {value:?}")))?
                } else {
                    MetricKind::Unknown
                };
                self.open_family(name, kind, no)?
            }
        };
        let seen = self.meta.entry(name.to_string()).or_default();
        match kw {
            "HELP" => {
                if seen.0 && self.strict {
                    return Err(err(no, 0, format!("a second # HELP for {name}")));
                }
                seen.0 = true;
                self.families[idx].help = Some(unescape_help(value, true));
            }
            "TYPE" => {
                if seen.1 && self.strict {
                    return Err(err(no, 0, format!("a second # TYPE for {name}")));
                }
                seen.1 = true;
                let kind = MetricKind::from_name(value)
                    .ok_or_else(|| err(no, col + 1, format!("unknown metric type {value:?}")))?;
                if let Some(m) = self.clashes(name, Some(kind)) {
                    return Err(err(no, 0, m));
                }
                self.families[idx].kind = kind;
            }
            _ => {
                if seen.2 && self.strict {
                    return Err(err(no, 0, format!("a second # UNIT for {name}")));
                }
                seen.2 = true;
                if !value.is_empty() && !name.ends_with(&format!("_{value}")) {
                    return Err(err(
                        no,
                        col + 1,
                        format!("the unit {value:?} must end the family name {name}"),
                    ));
                }
                if value.bytes().any(|c| !is_name_char(c)) {
                    return Err(err(no, col + 1, format!("invalid unit {value:?}")));
                }
                self.families[idx].unit = Some(value.to_string());
            }
        }
        let f = &self.families[idx];
        if f.unit.as_deref().is_some_and(|u| !u.is_empty())
            && matches!(f.kind, MetricKind::Info | MetricKind::StateSet)
        {
            return Err(err(
                no,
                0,
                format!("an {} family cannot have a unit", f.kind.as_str()),
            ));
        }
        Ok(())
    }

    fn sample(&mut self, raw: &[u8], no: u32) -> Result<(), ExpoError> {
        let mut l = Line { b: raw, i: 0, no };
        let name = l.name(false)?.to_string();
        let labels = if l.peek() == Some(b'{') {
            l.labels(true)?.0
        } else {
            Vec::new()
        };
        if l.peek() != Some(b' ') {
            return Err(l.err("expected a space before the value"));
        }
        l.i += 1;
        let vcol = l.i;
        let vtok = l.token();
        let value = parse_float(vtok, true)
            .ok_or_else(|| err(no, vcol, format!("invalid value {vtok:?}")))?;
        let mut timestamp_ms = None;
        let mut exemplar = None;
        if l.peek() == Some(b' ') {
            l.i += 1;
            if l.peek() != Some(b'#') {
                let tcol = l.i;
                let t = l.token();
                timestamp_ms = Some(
                    om_timestamp(t)
                        .ok_or_else(|| err(no, tcol, format!("invalid timestamp {t:?}")))?,
                );
                if l.peek() == Some(b' ') {
                    l.i += 1;
                }
            }
            if l.peek() == Some(b'#') {
                exemplar = Some(om_exemplar(&mut l)?);
            }
        }
        if l.i != raw.len() {
            return Err(l.err("unexpected text at the end of the sample"));
        }

        // Which family does it belong to?
        let idx = match self.family_of_name(&name) {
            Some(i) => i,
            None => {
                if let Some(m) = self.clashes(&name, None) {
                    return Err(err(no, 0, m));
                }
                self.open_family(&name, MetricKind::Unknown, no)?
            }
        };
        self.has_samples = true;
        let fam_name = self.families[idx].name.clone();
        let kind = self.families[idx].kind;
        let suffix = name[fam_name.len()..].to_string();
        let bad = |m: String| err(no, 0, m);
        let label = |n: &str| labels.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());

        if !self.strict {
            self.families[idx].samples.push(ExpoSample {
                name,
                labels,
                value,
                timestamp_ms,
                exemplar,
                line: no,
            });
            return Ok(());
        }
        // Exemplars only where the spec allows them.
        if exemplar.is_some()
            && !matches!(
                (kind, suffix.as_str()),
                (MetricKind::Counter, "_total")
                    | (
                        MetricKind::Histogram | MetricKind::GaugeHistogram,
                        "_bucket"
                    )
            )
        {
            return Err(bad(format!(
                "an exemplar on {name}, which cannot carry one"
            )));
        }
        // Values.
        let non_negative = |what: &str| -> Result<(), ExpoError> {
            if value.is_nan() || value < 0.0 {
                Err(bad(format!(
                    "{what} {name} must be a non-negative number, got {vtok}"
                )))
            } else {
                Ok(())
            }
        };
        match (kind, suffix.as_str()) {
            (MetricKind::Counter, "_total") => non_negative("counter")?,
            (MetricKind::Histogram, "_bucket" | "_count" | "_sum")
            | (MetricKind::GaugeHistogram, "_bucket" | "_gcount")
            | (MetricKind::Summary, "_count" | "_sum") => non_negative("value of")?,
            (MetricKind::GaugeHistogram, "_gsum") if value.is_nan() => {
                return Err(bad(format!("{name} cannot be NaN")));
            }
            (MetricKind::Summary, "") => {
                let q = label("quantile")
                    .ok_or_else(|| bad(format!("summary sample {name} needs a quantile label")))?;
                let qv = parse_float(q, true).filter(|q| (0.0..=1.0).contains(q));
                if qv.is_none() {
                    return Err(bad(format!("invalid quantile {q:?}")));
                }
                if value < 0.0 {
                    return Err(bad(format!("a quantile value cannot be negative ({vtok})")));
                }
            }
            (MetricKind::Info, _) if value != 1.0 => {
                return Err(bad(format!("an info sample's value must be 1, got {vtok}")));
            }
            (MetricKind::StateSet, _) => {
                if value != 0.0 && value != 1.0 {
                    return Err(bad(format!(
                        "a stateset sample's value must be 0 or 1, got {vtok}"
                    )));
                }
                if label(&fam_name).is_none() {
                    return Err(bad(format!(
                        "a stateset sample needs a label named {fam_name}"
                    )));
                }
            }
            _ => {}
        }
        let le = if suffix == "_bucket" {
            let le = label("le").ok_or_else(|| bad(format!("bucket {name} needs an le label")))?;
            Some(
                parse_float(le, true)
                    .filter(|v| !v.is_nan())
                    .ok_or_else(|| bad(format!("invalid le {le:?}")))?,
            )
        } else {
            None
        };

        // Metric points: contiguous, buckets before count and sum.
        let exclude: &[&str] = match kind {
            MetricKind::Histogram | MetricKind::GaugeHistogram => &["le"],
            MetricKind::Summary => &["quantile"],
            MetricKind::StateSet => &[fam_name.as_str()],
            _ => &[],
        };
        let mut key_labels: Vec<&(String, String)> = labels
            .iter()
            .filter(|(k, _)| !exclude.contains(&k.as_str()))
            .collect();
        key_labels.sort();
        let key = format!("{key_labels:?}");
        if self.point.as_deref() != Some(key.as_str()) {
            self.end_point()?;
            if self.points_done.contains(&key)
                && !matches!(
                    kind,
                    MetricKind::Gauge
                        | MetricKind::Unknown
                        | MetricKind::Counter
                        | MetricKind::Info
                )
            {
                return Err(bad(format!(
                    "the samples of one {} of {fam_name} are not together",
                    kind.as_str()
                )));
            }
            self.point = Some(key);
            self.point_state = PointState {
                line: no,
                ..Default::default()
            };
        }
        let st = &mut self.point_state;
        match suffix.as_str() {
            "_bucket" => {
                if st.after_buckets {
                    return Err(bad(format!("bucket {name} after the count or sum")));
                }
                let le = le.unwrap_or(f64::INFINITY);
                if let Some(&(prev_le, prev_n)) = st.buckets.last() {
                    if le <= prev_le {
                        return Err(bad("buckets must be in increasing le order".into()));
                    }
                    if value < prev_n {
                        return Err(bad("bucket counts must not decrease".into()));
                    }
                }
                st.buckets.push((le, value));
            }
            "_count" | "_gcount" => {
                st.after_buckets = true;
                st.count = Some(value);
            }
            "_sum" | "_gsum" => {
                st.after_buckets = true;
                st.sum = Some(value);
            }
            _ => {}
        }

        // One series: all with timestamps in order, or a single sample without.
        let mut skey = labels.clone();
        skey.sort();
        let series_key = format!("{name}{skey:?}");
        match self.series.get_mut(&series_key) {
            None => {
                self.series
                    .insert(series_key, (timestamp_ms.is_some(), timestamp_ms));
            }
            Some((had_ts, last)) => {
                if !*had_ts || timestamp_ms.is_none() {
                    return Err(bad(format!("{name} repeats without timestamps")));
                }
                if timestamp_ms < *last {
                    return Err(bad(format!("the timestamps of {name} go backwards")));
                }
                *last = timestamp_ms;
            }
        }
        self.families[idx].samples.push(ExpoSample {
            name,
            labels,
            value,
            timestamp_ms,
            exemplar,
            line: no,
        });
        Ok(())
    }

    fn end_point(&mut self) -> Result<(), ExpoError> {
        let Some(key) = self.point.take() else {
            return Ok(());
        };
        if !self.strict {
            return Ok(());
        }
        let st = std::mem::take(&mut self.point_state);
        self.points_done.insert(key);
        let Some(i) = self.current else {
            return Ok(());
        };
        let (kind, name) = (self.families[i].kind, self.families[i].name.clone());
        let bad = |m: String| err(st.line, 0, m);
        if matches!(kind, MetricKind::Histogram | MetricKind::GaugeHistogram) {
            let gauge = kind == MetricKind::GaugeHistogram;
            let Some(&(last_le, last_n)) = st.buckets.last() else {
                return Err(bad(format!("{} {name} has no buckets", kind.as_str())));
            };
            if last_le != f64::INFINITY {
                return Err(bad(format!("{} {name} has no +Inf bucket", kind.as_str())));
            }
            if st.count.is_some() != st.sum.is_some() {
                return Err(bad(format!(
                    "{} {name} needs both its count and its sum, or neither",
                    kind.as_str()
                )));
            }
            if let Some(c) = st.count
                && c != last_n
            {
                return Err(bad(format!(
                    "the count of {name} ({c}) differs from its +Inf bucket ({last_n})"
                )));
            }
            let negative = st.buckets.iter().any(|b| b.0 < 0.0);
            if let Some(s) = st.sum {
                if !gauge && negative {
                    return Err(bad(format!(
                        "histogram {name} has negative buckets, so it cannot have a sum"
                    )));
                }
                if gauge && s < 0.0 && !negative {
                    return Err(bad(format!(
                        "the sum of {name} is negative without negative buckets"
                    )));
                }
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Exposition, ExpoError> {
        self.close_current()?;
        Ok(Exposition {
            families: self.families,
            problems: Vec::new(),
            notes: Vec::new(),
            openmetrics: true,
        })
    }
}

/// An OpenMetrics timestamp: seconds as a decimal float, finite.
fn om_timestamp(t: &str) -> Option<i64> {
    if matches!(t, "NaN" | "+Inf" | "-Inf" | "Inf") {
        return None;
    }
    let v = parse_float(t, true)?;
    v.is_finite().then(|| (v * 1000.0).round() as i64)
}

fn om_exemplar(l: &mut Line) -> Result<Exemplar, ExpoError> {
    // `# {labels} value [timestamp]`, one space each.
    if l.b.get(l.i..l.i + 3) != Some(b"# {") {
        return Err(l.err("an exemplar must read # {labels} value"));
    }
    l.i += 2;
    let (labels, _) = l.labels(true)?;
    let chars: usize = labels
        .iter()
        .map(|(k, v)| k.chars().count() + v.chars().count())
        .sum();
    if chars > 128 {
        return Err(l.err(format!(
            "exemplar labels are {chars} characters long, over 128"
        )));
    }
    if l.peek() != Some(b' ') {
        return Err(l.err("expected a space before the exemplar value"));
    }
    l.i += 1;
    let vcol = l.i;
    let vt = l.token();
    let value = parse_float(vt, true)
        .ok_or_else(|| err(l.no, vcol, format!("invalid exemplar value {vt:?}")))?;
    let mut timestamp_ms = None;
    if l.peek() == Some(b' ') {
        l.i += 1;
        let tcol = l.i;
        let t = l.token();
        timestamp_ms = Some(
            om_timestamp(t)
                .ok_or_else(|| err(l.no, tcol, format!("invalid exemplar timestamp {t:?}")))?,
        );
    }
    Ok(Exemplar {
        labels,
        value,
        timestamp_ms,
    })
}

// ---------------------------------------------------------------------------------------
// Text format 0.0.4 (lenient)

/// Parses the Prometheus text format; bad lines become problems, good samples are kept.
pub fn parse_text(text: &[u8]) -> Exposition {
    let mut families: Vec<Family> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    // Declared families whose sample names carry suffixes: sample name -> family index.
    let mut problems = Vec::new();
    for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
        let no = i as u32 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let start = raw
            .iter()
            .position(|c| *c != b' ' && *c != b'\t')
            .unwrap_or(raw.len());
        let line = &raw[start..];
        if line.is_empty() {
            continue;
        }
        if line[0] == b'#' {
            let Ok(s) = std::str::from_utf8(line) else {
                problems.push(err(no, 0, "not UTF-8"));
                continue;
            };
            let mut words = s[1..].trim_start().splitn(3, [' ', '\t']);
            let kw = words.next().unwrap_or("");
            if kw != "HELP" && kw != "TYPE" {
                continue; // a comment (or # EOF, # UNIT of a lax OpenMetrics file)
            }
            let Some(name) = words.next().filter(|n| !n.is_empty()) else {
                problems.push(err(no, start, format!("# {kw} without a metric name")));
                continue;
            };
            let rest = words.next().unwrap_or("").trim_end();
            let idx = match by_name.get(name) {
                Some(&i) => i,
                None => {
                    families.push(Family {
                        name: name.to_string(),
                        kind: MetricKind::Unknown,
                        help: None,
                        unit: None,
                        samples: Vec::new(),
                    });
                    by_name.insert(name.to_string(), families.len() - 1);
                    families.len() - 1
                }
            };
            if kw == "HELP" {
                families[idx].help = Some(unescape_help(rest, false));
            } else {
                let kind = match rest {
                    "untyped" => Some(MetricKind::Unknown),
                    other => MetricKind::from_name(other),
                };
                match kind {
                    Some(k) => families[idx].kind = k,
                    None => problems.push(err(no, start, format!("unknown metric type {rest:?}"))),
                }
            }
            continue;
        }
        match text_sample(line, no) {
            Ok(mut s) => {
                s.line = no;
                let idx = text_family(&families, &by_name, &s.name).unwrap_or_else(|| {
                    families.push(Family {
                        name: s.name.clone(),
                        kind: MetricKind::Unknown,
                        help: None,
                        unit: None,
                        samples: Vec::new(),
                    });
                    by_name.insert(s.name.clone(), families.len() - 1);
                    families.len() - 1
                });
                families[idx].samples.push(s);
            }
            Err(mut e) => {
                e.column += start as u32;
                problems.push(e);
            }
        }
    }
    Exposition {
        families,
        problems,
        notes: Vec::new(),
        openmetrics: false,
    }
}

/// The declared family a text-format sample belongs to.
fn text_family(families: &[Family], by_name: &HashMap<String, usize>, name: &str) -> Option<usize> {
    if let Some(&i) = by_name.get(name) {
        return Some(i);
    }
    for suf in [
        "_bucket", "_count", "_sum", "_total", "_created", "_gcount", "_gsum", "_info",
    ] {
        if let Some(base) = name.strip_suffix(suf)
            && let Some(&i) = by_name.get(base)
            && families[i].kind.suffixes().contains(&suf)
        {
            return Some(i);
        }
    }
    None
}

fn text_sample(raw: &[u8], no: u32) -> Result<ExpoSample, ExpoError> {
    let mut l = Line { b: raw, i: 0, no };
    let (name, labels) = if l.peek() == Some(b'{') {
        let (labels, quoted) = l.labels(false)?;
        let name = quoted.ok_or_else(|| err(no, 0, "a sample without a metric name"))?;
        (name, labels)
    } else {
        let name = l.name(false)?.to_string();
        let after_name = l.i;
        while matches!(l.peek(), Some(b' ' | b'\t')) {
            l.i += 1;
        }
        if l.peek() != Some(b'{') {
            l.i = after_name;
        }
        let labels = if l.peek() == Some(b'{') {
            let (labels, quoted) = l.labels(false)?;
            if quoted.is_some() {
                return Err(err(no, 0, "two metric names in one sample"));
            }
            labels
        } else {
            Vec::new()
        };
        (name, labels)
    };
    let ws = |l: &mut Line| {
        let s = l.i;
        while matches!(l.peek(), Some(b' ' | b'\t')) {
            l.i += 1;
        }
        l.i > s
    };
    if !ws(&mut l) {
        return Err(l.err(if l.peek().is_none() {
            format!("{name} has no value")
        } else {
            "expected a space before the value".to_string()
        }));
    }
    let vcol = l.i;
    let v = l.token();
    if v.is_empty() {
        return Err(err(no, vcol, format!("{name} has no value")));
    }
    let value =
        parse_float(v, false).ok_or_else(|| err(no, vcol, format!("invalid value {v:?}")))?;
    ws(&mut l);
    let mut timestamp_ms = None;
    if l.peek().is_some() && l.peek() != Some(b'#') {
        let tcol = l.i;
        let t = l.token();
        timestamp_ms = Some(t.parse::<i64>().map_err(|_| {
            err(
                no,
                tcol,
                format!("invalid timestamp {t:?} (milliseconds expected)"),
            )
        })?);
        ws(&mut l);
    }
    if l.peek().is_some() && l.peek() != Some(b'#') {
        return Err(l.err("unexpected text at the end of the sample"));
    }
    Ok(ExpoSample {
        name,
        labels,
        value,
        timestamp_ms,
        exemplar: None,
        line: no,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_keeps_good_lines_and_says_where_bad_ones_are() {
        let t = b"# HELP http_requests_total The total.\n# TYPE http_requests_total counter\nhttp_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\nhttp_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\nbad{a=\"b\" 1\n\nmetric_without_timestamp_and_labels 12.47\n{\"my.dotted.metric\", \"error.message\"=\"Not Found\"} 3\n";
        let e = parse_text(t);
        assert_eq!(e.sample_count(), 4);
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].line, 5);
        let f = &e.families[0];
        assert_eq!(
            (f.name.as_str(), f.kind, f.samples.len()),
            ("http_requests_total", MetricKind::Counter, 2)
        );
        assert_eq!(f.samples[0].timestamp_ms, Some(1395066363000));
        assert!(e.families.iter().any(|f| f.name == "my.dotted.metric"));
    }

    #[test]
    fn openmetrics_histogram_with_exemplar() {
        let t = b"# TYPE a histogram\n# HELP a help\na_bucket{le=\"1.0\"} 0 # {a=\"b\"} 0.5\na_bucket{le=\"+Inf\"} 3 # {a=\"d\"} 4 123\na_count 3\na_sum 2\n# EOF\n";
        let e = parse_openmetrics(t).unwrap();
        assert_eq!(e.families.len(), 1);
        assert_eq!(e.families[0].samples.len(), 4);
        assert_eq!(
            e.families[0].samples[1]
                .exemplar
                .as_ref()
                .unwrap()
                .timestamp_ms,
            Some(123_000)
        );
    }

    #[test]
    fn openmetrics_errors_have_line_and_column() {
        let e = parse_openmetrics(b"# TYPE a counter\na_total -1\n# EOF\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_openmetrics(b"a  1\n# EOF\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
    }
}
