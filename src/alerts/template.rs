//! Alert label and annotation templates: the part of Go's text/template that Prometheus rule
//! files use.
//!
//! Supported: `{{ $labels.name }}`, `{{ $labels }}`, `{{ $value }}`, `{{ $externalLabels.x }}`,
//! `{{ $externalURL }}`, `.Labels.x` / `.Value`, `index $labels "x"`, string and number
//! literals, pipelines (`{{ $value | humanize }}`), the functions `printf`, `humanize`,
//! `humanize1024`, `humanizeDuration`, `humanizePercentage`, `humanizeTimestamp`, `title`,
//! `toUpper`, `toLower`, `reReplaceAll`, `stripPort`, `stripDomain`, `safeHtml`, comments and
//! `{{-` / `-}}` trimming. Anything else (`if`, `range`, query functions) is reported when the
//! rule file is loaded, naming the construct.

use std::collections::BTreeMap;

use crate::promql::gofmt::{FmtArg, format_g, sprintf};

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Action(Vec<Command>),
    /// An action Sightline cannot run: expands to Prometheus-style error text.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Command {
    func: Option<String>,
    args: Vec<Operand>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Str(String),
    Num(f64),
    /// `$labels`, `$labels.x`, `$value`, `.Labels.x`…: a root and a path.
    Var(String, Vec<String>),
}

/// What a template sees.
#[derive(Debug, Clone, Default)]
pub struct TemplateData {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
}

#[derive(Debug, Clone)]
enum Val {
    Str(String),
    Num(f64),
    Map(BTreeMap<String, String>),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Num(v) => format_g(*v),
            Val::Map(m) => {
                let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("map[{}]", inner.join(" "))
            }
        }
    }
}

const FUNCS: &[&str] = &[
    "printf",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "title",
    "toUpper",
    "toLower",
    "reReplaceAll",
    "stripPort",
    "stripDomain",
    "safeHtml",
    "index",
    "print",
];

impl Template {
    pub fn parse(src: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = src;
        let mut trim_next = false;
        while let Some(open) = rest.find("{{") {
            let mut text = &rest[..open];
            if trim_next {
                text = text.trim_start();
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed action starting at {:?}", &rest[open..]))?;
            let mut inner = &after[..close];
            if let Some(s) = inner.strip_prefix('-') {
                text = text.trim_end();
                inner = s;
            }
            trim_next = false;
            if let Some(s) = inner.strip_suffix('-') {
                trim_next = true;
                inner = s;
            }
            if !text.is_empty() {
                parts.push(Part::Text(text.to_string()));
            }
            let inner = inner.trim();
            if !(inner.starts_with("/*") && inner.ends_with("*/")) {
                parts.push(match parse_pipeline(inner) {
                    Ok(p) => Part::Action(p),
                    Err(e) if e.contains("not supported") => Part::Unsupported(e),
                    Err(e) => return Err(e),
                });
            }
            rest = &after[close + 2..];
        }
        let text = if trim_next { rest.trim_start() } else { rest };
        if !text.is_empty() {
            parts.push(Part::Text(text.to_string()));
        }
        Ok(Template { parts })
    }

    /// Constructs this template uses that Sightline cannot expand (Go template control
    /// flow, query functions); the rule still loads and the annotation reads as an error.
    pub fn unsupported(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Unsupported(m) => Some(m.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether the template is plain text.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// Expands the template; an error reads like Prometheus' own.
    pub fn expand(&self, data: &TemplateData) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Action(cmds) => match run_pipeline(cmds, data) {
                    Ok(v) => out.push_str(&v.text()),
                    Err(e) => return format!("<error expanding template: {e}>"),
                },
                Part::Unsupported(e) => return format!("<error expanding template: {e}>"),
            }
        }
        out
    }
}

fn parse_pipeline(s: &str) -> Result<Vec<Command>, String> {
    let mut cmds = Vec::new();
    for part in split_outside_quotes(s, '|') {
        let toks = tokenize(part.trim())?;
        if toks.is_empty() {
            return Err(format!("empty command in {s:?}"));
        }
        let (func, args) = match &toks[0] {
            Tok::Ident(name) => {
                if matches!(
                    name.as_str(),
                    "if" | "else" | "end" | "range" | "with" | "define" | "template" | "block"
                ) {
                    return Err(format!(
                        "{{{{ {name} }}}} is not supported in Sightline templates"
                    ));
                }
                if !FUNCS.contains(&name.as_str()) {
                    return Err(format!("function {name:?} is not supported"));
                }
                (Some(name.clone()), &toks[1..])
            }
            _ => (None, &toks[..]),
        };
        let mut args_out = Vec::new();
        for t in args {
            args_out.push(match t {
                Tok::Str(s) => Operand::Str(s.clone()),
                Tok::Num(n) => Operand::Num(*n),
                Tok::Var(root, path) => Operand::Var(root.clone(), path.clone()),
                Tok::Ident(i) => return Err(format!("unexpected {i:?} in {s:?}")),
            });
        }
        if func.is_none() && args_out.len() != 1 {
            return Err(format!("cannot read {s:?}"));
        }
        cmds.push(Command {
            func,
            args: args_out,
        });
    }
    Ok(cmds)
}

#[derive(Debug)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Var(String, Vec<String>),
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut in_q, mut esc) = (0, None::<char>, false);
    for (i, c) in s.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match (c, in_q) {
            ('\\', Some('"')) => esc = true,
            ('"' | '`', None) => in_q = Some(c),
            (q, Some(open)) if q == open => in_q = None,
            (c, None) if c == sep => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut v = String::new();
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' && i + 1 < b.len() {
                    i += 1;
                    v.push(match b[i] {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                } else {
                    v.push(b[i]);
                }
                i += 1;
            }
            if i >= b.len() {
                return Err(format!("unterminated string in {s:?}"));
            }
            i += 1;
            out.push(Tok::Str(v));
        } else if c == '`' {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i] != '`' {
                i += 1;
            }
            out.push(Tok::Str(b[start..i.min(b.len())].iter().collect()));
            i += 1;
        } else if c == '$' || c == '.' {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.') {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            let mut segs = word.split('.');
            let root = segs.next().unwrap_or("").to_string();
            let path: Vec<String> = segs.filter(|p| !p.is_empty()).map(String::from).collect();
            out.push(Tok::Var(root, path));
        } else if c.is_ascii_digit() || c == '-' || c == '+' {
            let start = i;
            i += 1;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == '.' || b[i] == '+' || b[i] == '-')
            {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            out.push(Tok::Num(
                word.parse().map_err(|_| format!("bad number {word:?}"))?,
            ));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
        } else if c == '(' || c == ')' {
            return Err("parentheses in templates are not supported".into());
        } else {
            return Err(format!("unexpected {c:?} in {s:?}"));
        }
    }
    Ok(out)
}

fn resolve(root: &str, path: &[String], data: &TemplateData) -> Result<Val, String> {
    // `$` and `.` are the data itself; `.Labels` is `$labels`, `$.Labels` too.
    let (base, rest): (Val, &[String]) = match root {
        "$labels" => (Val::Map(data.labels.clone()), path),
        "$value" => (Val::Num(data.value), path),
        "$externalLabels" => (Val::Map(data.external_labels.clone()), path),
        "$externalURL" => (Val::Str(data.external_url.clone()), path),
        "$" | "" => match path.first().map(String::as_str) {
            Some("Labels") => (Val::Map(data.labels.clone()), &path[1..]),
            Some("Value") => (Val::Num(data.value), &path[1..]),
            Some("ExternalLabels") => (Val::Map(data.external_labels.clone()), &path[1..]),
            Some("ExternalURL") => (Val::Str(data.external_url.clone()), &path[1..]),
            Some(other) => return Err(format!("can't evaluate field {other}")),
            None => return Err("the template data itself cannot be printed".into()),
        },
        other => return Err(format!("undefined variable {other:?}")),
    };
    match (base, rest) {
        (v, []) => Ok(v),
        (Val::Map(m), [k]) => Ok(Val::Str(
            m.get(k).cloned().unwrap_or_else(|| "<no value>".into()),
        )),
        (_, p) => Err(format!("can't evaluate field {}", p.join("."))),
    }
}

fn run_pipeline(cmds: &[Command], data: &TemplateData) -> Result<Val, String> {
    let mut prev: Option<Val> = None;
    for c in cmds {
        let mut args: Vec<Val> = c
            .args
            .iter()
            .map(|a| match a {
                Operand::Str(s) => Ok(Val::Str(s.clone())),
                Operand::Num(n) => Ok(Val::Num(*n)),
                Operand::Var(r, p) => resolve(r, p, data),
            })
            .collect::<Result<_, _>>()?;
        if let Some(p) = prev.take() {
            args.push(p);
        }
        prev = Some(match &c.func {
            None => args.into_iter().next().ok_or("empty command")?,
            Some(f) => call(f, args)?,
        });
    }
    prev.ok_or_else(|| "empty action".to_string())
}

fn num(v: &Val) -> Result<f64, String> {
    match v {
        Val::Num(n) => Ok(*n),
        Val::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("cannot read {s:?} as a number")),
        Val::Map(_) => Err("a map is not a number".into()),
    }
}

fn call(f: &str, args: Vec<Val>) -> Result<Val, String> {
    let one = || -> Result<&Val, String> { args.first().ok_or(format!("{f} needs an argument")) };
    Ok(match f {
        "printf" => {
            let fmt = match args.first() {
                Some(Val::Str(s)) => s.clone(),
                _ => return Err("printf needs a format string".into()),
            };
            let rest: Vec<FmtArg> = args[1..]
                .iter()
                .map(|a| match a {
                    Val::Num(n) => FmtArg::Num(*n),
                    other => FmtArg::Str(other.text()),
                })
                .collect();
            Val::Str(
                sprintf(&fmt, &rest)
                    .ok_or_else(|| format!("printf {fmt:?}: verb not supported"))?,
            )
        }
        "print" => Val::Str(args.iter().map(Val::text).collect::<Vec<_>>().join(" ")),
        "humanize" => Val::Str(humanize(
            num(one()?)?,
            1000.0,
            &["", "k", "M", "G", "T", "P", "E", "Z", "Y"],
            &["", "m", "u", "n", "p", "f", "a", "z", "y"],
        )),
        "humanize1024" => Val::Str(humanize(
            num(one()?)?,
            1024.0,
            &["", "ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"],
            &[""],
        )),
        "humanizePercentage" => Val::Str(format!("{}%", g4(num(one()?)? * 100.0))),
        "humanizeDuration" => Val::Str(humanize_duration(num(one()?)?)),
        "humanizeTimestamp" => {
            let v = num(one()?)?;
            Val::Str(crate::model::format_rfc3339_nanos((v * 1e9) as i64))
        }
        "title" => Val::Str(
            one()?
                .text()
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                })
                .collect::<Vec<String>>()
                .join(" "),
        ),
        "toUpper" => Val::Str(one()?.text().to_uppercase()),
        "toLower" => Val::Str(one()?.text().to_lowercase()),
        "safeHtml" => Val::Str(one()?.text()),
        "stripPort" => {
            let s = one()?.text();
            Val::Str(match s.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => {
                    h.trim_matches(['[', ']']).to_string()
                }
                _ => s,
            })
        }
        "stripDomain" => {
            let s = one()?.text();
            let (host, port) = match s.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => {
                    (h.to_string(), format!(":{p}"))
                }
                _ => (s.clone(), String::new()),
            };
            let short = host.split('.').next().unwrap_or(&host).to_string();
            Val::Str(format!("{short}{port}"))
        }
        "reReplaceAll" => {
            if args.len() != 3 {
                return Err("reReplaceAll needs a pattern, a replacement and a text".into());
            }
            let re = regex::Regex::new(&args[0].text()).map_err(|e| e.to_string())?;
            Val::Str(
                re.replace_all(&args[2].text(), args[1].text().as_str())
                    .into_owned(),
            )
        }
        "index" => match (args.first(), args.get(1)) {
            (Some(Val::Map(m)), Some(k)) => Val::Str(m.get(&k.text()).cloned().unwrap_or_default()),
            _ => return Err("index needs a map and a key".into()),
        },
        other => return Err(format!("function {other:?} is not supported")),
    })
}

/// Go's `%.4g`.
fn g4(v: f64) -> String {
    sprintf("%.4g", &[FmtArg::Num(v)]).unwrap_or_else(|| format_g(v))
}

fn humanize(v: f64, base: f64, up: &[&str], down: &[&str]) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v.abs() >= 1.0 {
        let mut x = v;
        let mut i = 0;
        while x.abs() >= base && i + 1 < up.len() {
            x /= base;
            i += 1;
        }
        return format!("{}{}", g4(x), up[i]);
    }
    let mut x = v;
    let mut i = 0;
    while x.abs() < 1.0 && i + 1 < down.len() {
        x *= 1000.0;
        i += 1;
    }
    format!("{}{}", g4(x), down[i])
}

fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return format!("{v:.4}");
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let (d, h, m) = (
            (v / 86400.0) as i64,
            ((v / 3600.0) as i64) % 24,
            ((v / 60.0) as i64) % 60,
        );
        let s = v as i64 % 60;
        let ms = ((v - v.floor()) * 1000.0) as i64;
        return if d != 0 {
            format!("{sign}{d}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}.{ms:03}s", s)
        };
    }
    let mut x = v;
    for unit in ["s", "ms", "us", "ns", "ps", "fs", "as", "zs", "ys"] {
        if x.abs() >= 1.0 || x == 0.0 || unit == "ys" {
            return format!("{}{unit}", g4(x));
        }
        x *= 1000.0;
    }
    g4(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> TemplateData {
        TemplateData {
            labels: [
                ("instance".to_string(), "a:9090".to_string()),
                ("job".to_string(), "api".to_string()),
            ]
            .into_iter()
            .collect(),
            value: 1234.5678,
            ..Default::default()
        }
    }

    #[test]
    fn expands_what_rule_files_use() {
        let t = |s: &str| Template::parse(s).unwrap().expand(&data());
        assert_eq!(t("{{ $labels.instance }} down"), "a:9090 down");
        assert_eq!(t("{{$labels.job}}"), "api");
        assert_eq!(t("v={{ $value }}"), "v=1234.5678");
        assert_eq!(t("{{ $value | humanize }}"), "1.235k");
        assert_eq!(t("{{ humanize $value }}"), "1.235k");
        assert_eq!(t(r#"{{ printf "%.2f" $value }}"#), "1234.57");
        assert_eq!(t("{{ $labels }}"), "map[instance:a:9090 job:api]");
        assert_eq!(t("{{ .Labels.job }}"), "api");
        assert_eq!(t("a {{- \" b \" -}} c"), "a b c");
        assert_eq!(t("{{ $labels.missing }}"), "<no value>");
        assert_eq!(t("{{ 0.5 | humanizePercentage }}"), "50%");
        assert_eq!(t("{{ $labels.instance | stripPort }}"), "a");
    }

    #[test]
    fn unsupported_constructs_are_named() {
        let t = Template::parse("{{ if $value }}x{{ end }}").unwrap();
        assert!(t.unsupported()[0].contains("if"));
        let t = Template::parse("{{ query \"up\" | first }}").unwrap();
        assert!(t.expand(&data()).contains("query"), "{}", t.expand(&data()));
        assert!(Template::parse("{{ $value ").is_err());
    }
}
