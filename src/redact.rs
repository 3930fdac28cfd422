//! Masking secrets in exported bundles (`sightline export --redact`).
//!
//! A [`Redactor`] finds secrets in two ways:
//!
//! * **Patterns in free text** ([`Redactor::text`]): API keys of known providers (OpenAI,
//!   Anthropic, AWS, GitHub, Slack), bearer tokens, JWTs, passwords in URLs, e-mail
//!   addresses, PEM private-key blocks and `api_key=...`-style assignments. Each match is
//!   replaced by `[REDACTED:<kind>]`; where the surrounding text is not secret it is kept
//!   (`Bearer [REDACTED:bearer_token]`, `postgres://user:[REDACTED:url_password]@host/db`,
//!   `api_key=[REDACTED:generic_api_key]`).
//! * **Field names in JSON** ([`Redactor::json`]): a value under a configured field name
//!   (`password`, `authorization`, ... compared case-insensitively on the last dotted
//!   segment of the key) is replaced whole by `[REDACTED:field]`; every other string value
//!   goes through the text patterns. OTLP attribute lists (`{"key": K, "value": {...}}`) and
//!   HAR-style pairs (`{"name": K, "value": V}`) are recognised, and the `AnyValue` shape is
//!   kept (`{"stringValue": "[REDACTED:field]"}`).
//!
//! Patterns run one after another, most specific first, and never touch text that is
//! already masked (`[REDACTED...]`), so redaction is idempotent and a secret is counted
//! once, under its most specific kind (a JWT after `Bearer` counts as one bearer token).
//!
//! Every replacement is counted in a [`Report`] together with *where* it happened (a file
//! and line, plus a JSON path). The report never holds the secret or any part of it: JSON
//! keys shown in paths are themselves passed through the patterns first.
//!
//! Avoiding false positives matters as much as finding secrets: hex trace and span ids,
//! UUIDs, timestamps, model names (`gpt-4o-mini`), file paths, URLs without a password,
//! version strings, `icon@2x.png` and base64 images are left alone.
//!
//! Object keys are never changed, so a secret used *as a key* stays in the output.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::{Captures, Match, Regex, RegexSet};
use serde_json::{Map, Value};

/// What kinds of secret are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// `sk-...`, `sk-proj-...`, `sk-svcacct-...`, `sk-admin-...`.
    OpenaiKey,
    /// `sk-ant-...`.
    AnthropicKey,
    /// `AKIA...` / `ASIA...` / `ABIA...` / `ACCA...` access key ids.
    AwsAccessKey,
    /// 40-character secret access keys next to a key name such as `aws_secret_access_key`.
    AwsSecretKey,
    /// `ghp_...`, `gho_...`, `ghu_...`, `ghs_...`, `ghr_...`, `github_pat_...`.
    GithubToken,
    /// `xox[abposr]-...` tokens and the secret part of Slack webhook URLs.
    SlackToken,
    /// The token after `Bearer`.
    BearerToken,
    /// JSON Web Tokens (`eyJ...eyJ...sig`).
    Jwt,
    /// The password in `scheme://user:password@host`.
    UrlPassword,
    /// E-mail addresses.
    Email,
    /// A value under a configured field name.
    Field,
    /// `-----BEGIN ... PRIVATE KEY-----` blocks.
    PrivateKey,
    /// `key=value` where the key looks like api_key / secret / token / password.
    GenericApiKey,
}

impl SecretKind {
    /// Every kind, in declaration order.
    pub const ALL: [SecretKind; 13] = [
        SecretKind::OpenaiKey,
        SecretKind::AnthropicKey,
        SecretKind::AwsAccessKey,
        SecretKind::AwsSecretKey,
        SecretKind::GithubToken,
        SecretKind::SlackToken,
        SecretKind::BearerToken,
        SecretKind::Jwt,
        SecretKind::UrlPassword,
        SecretKind::Email,
        SecretKind::Field,
        SecretKind::PrivateKey,
        SecretKind::GenericApiKey,
    ];

    /// The snake_case name, as serialized and as shown in masks.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::OpenaiKey => "openai_key",
            SecretKind::AnthropicKey => "anthropic_key",
            SecretKind::AwsAccessKey => "aws_access_key",
            SecretKind::AwsSecretKey => "aws_secret_key",
            SecretKind::GithubToken => "github_token",
            SecretKind::SlackToken => "slack_token",
            SecretKind::BearerToken => "bearer_token",
            SecretKind::Jwt => "jwt",
            SecretKind::UrlPassword => "url_password",
            SecretKind::Email => "email",
            SecretKind::Field => "field",
            SecretKind::PrivateKey => "private_key",
            SecretKind::GenericApiKey => "generic_api_key",
        }
    }

    /// `[REDACTED:<kind>]`, without allocating.
    pub fn mask(self) -> &'static str {
        match self {
            SecretKind::OpenaiKey => "[REDACTED:openai_key]",
            SecretKind::AnthropicKey => "[REDACTED:anthropic_key]",
            SecretKind::AwsAccessKey => "[REDACTED:aws_access_key]",
            SecretKind::AwsSecretKey => "[REDACTED:aws_secret_key]",
            SecretKind::GithubToken => "[REDACTED:github_token]",
            SecretKind::SlackToken => "[REDACTED:slack_token]",
            SecretKind::BearerToken => "[REDACTED:bearer_token]",
            SecretKind::Jwt => "[REDACTED:jwt]",
            SecretKind::UrlPassword => "[REDACTED:url_password]",
            SecretKind::Email => "[REDACTED:email]",
            SecretKind::Field => "[REDACTED:field]",
            SecretKind::PrivateKey => "[REDACTED:private_key]",
            SecretKind::GenericApiKey => "[REDACTED:generic_api_key]",
        }
    }
}

impl std::fmt::Display for SecretKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a masked secret is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaskStyle {
    /// `[REDACTED:<kind>]`, e.g. `[REDACTED:openai_key]`.
    #[default]
    Kind,
    /// `[REDACTED]` for every kind (the report still counts kinds).
    Plain,
}

/// Field names masked by every [`Redactor`], compared case-insensitively with `-` and `_`
/// treated alike, against the last dotted segment of a JSON or OTLP attribute key.
pub const DEFAULT_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "private_key",
    "client_secret",
    "x-api-key",
];

/// At most this many [`Place`]s are kept in a [`Report`].
pub const MAX_PLACES: usize = 1000;

/// Masks secrets in text and JSON. `Redactor::default()` knows the [`DEFAULT_FIELDS`] and
/// writes `[REDACTED:<kind>]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Configured field names beyond [`DEFAULT_FIELDS`], normalized (lowercase, `-` → `_`).
    fields: Vec<String>,
    style: MaskStyle,
}

/// What was redacted and where. Never holds a secret or any part of one.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Number of secrets masked.
    pub total: u64,
    /// Number of secrets masked per kind.
    pub by_kind: BTreeMap<SecretKind, u64>,
    /// Where: up to [`MAX_PLACES`] entries of kind and place (e.g.
    /// `logs/app.jsonl:12 $.user.password`) — never the secret or any part of it.
    pub places: Vec<Place>,
    /// True when more places were found than [`Report::places`] holds.
    pub places_truncated: bool,
}

/// One masked secret: its kind and where it was.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Place {
    pub kind: SecretKind,
    pub place: String,
}

impl Report {
    /// Adds another report's counts and places (places stay capped at [`MAX_PLACES`]).
    pub fn merge(&mut self, other: Report) {
        self.total = self.total.saturating_add(other.total);
        for (kind, n) in other.by_kind {
            let count = self.by_kind.entry(kind).or_insert(0);
            *count = count.saturating_add(n);
        }
        for place in other.places {
            if self.places.len() < MAX_PLACES {
                self.places.push(place);
            } else {
                self.places_truncated = true;
                break;
            }
        }
        self.places_truncated |= other.places_truncated;
    }

    /// True when nothing was redacted.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Counts one secret; `place` is only built while there is room for it.
    fn record(&mut self, kind: SecretKind, place: impl FnOnce() -> String) {
        self.total = self.total.saturating_add(1);
        let count = self.by_kind.entry(kind).or_insert(0);
        *count = count.saturating_add(1);
        if self.places.len() < MAX_PLACES {
            self.places.push(Place {
                kind,
                place: place(),
            });
        } else {
            self.places_truncated = true;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Patterns

/// Extra validation of a match, beyond its pattern.
#[derive(Debug, Clone, Copy)]
enum Check {
    Always,
    NotPlaceholder,
    OpenAi,
    Slack,
    AwsSecret,
    Bearer,
    UrlPassword,
    Email,
    Generic,
}

#[derive(Debug)]
struct RuleDef {
    kind: SecretKind,
    pattern: &'static str,
    /// Capture groups holding the secret, first participating one wins; 0 = whole match.
    groups: &'static [usize],
    check: Check,
}

/// In order of application: most specific first.
const RULES: &[RuleDef] = &[
    // A whole PEM block, then the head of one cut off before its END line.
    RuleDef {
        kind: SecretKind::PrivateKey,
        pattern: r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
        groups: &[0],
        check: Check::Always,
    },
    RuleDef {
        kind: SecretKind::PrivateKey,
        pattern: r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,.-]*",
        groups: &[0],
        check: Check::Always,
    },
    RuleDef {
        kind: SecretKind::AnthropicKey,
        pattern: r"(?-u:\b)sk-ant-(?:(?:api|admin)[0-9]{2}-)?[A-Za-z0-9_-]{20,}",
        groups: &[0],
        check: Check::Always,
    },
    RuleDef {
        kind: SecretKind::OpenaiKey,
        pattern: r"(?-u:\b)sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,}",
        groups: &[0],
        check: Check::OpenAi,
    },
    RuleDef {
        kind: SecretKind::GithubToken,
        pattern: r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        groups: &[0],
        check: Check::Always,
    },
    RuleDef {
        kind: SecretKind::SlackToken,
        pattern: r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,}",
        groups: &[0],
        check: Check::Slack,
    },
    RuleDef {
        kind: SecretKind::SlackToken,
        pattern: r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/([A-Za-z0-9]{8,})",
        groups: &[1],
        check: Check::Always,
    },
    RuleDef {
        kind: SecretKind::AwsAccessKey,
        pattern: r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?-u:\b)",
        groups: &[0],
        check: Check::Always,
    },
    RuleDef {
        kind: SecretKind::AwsSecretKey,
        pattern: r#"(?i)(?:aws[_.-]?secret(?:[_.-]?access)?(?:[_.-]?key)?|secret[_.-]?access[_.-]?key)\\?["']?\s*(?:=>|[:=])\s*(?:\\?["'])?([A-Za-z0-9/+=]{40})"#,
        groups: &[1],
        check: Check::AwsSecret,
    },
    // `Authorization: Basic <base64>` / `Authorization: Token <token>`.
    RuleDef {
        kind: SecretKind::GenericApiKey,
        pattern: r#"(?i)authorization\\?["']?\s*[:=]\s*(?:\\?["'])?(?:basic|token)\s+([A-Za-z0-9._~+/-]{8,}=*)"#,
        groups: &[1],
        check: Check::Bearer,
    },
    // Before JWT: a JWT after `Bearer` counts once, as a bearer token.
    RuleDef {
        kind: SecretKind::BearerToken,
        pattern: r"(?i)(?-u:\b)bearer\s+([A-Za-z0-9._~+/-]{16,}=*)",
        groups: &[1],
        check: Check::Bearer,
    },
    RuleDef {
        kind: SecretKind::Jwt,
        pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
        groups: &[0],
        check: Check::Always,
    },
    // The password may hold unencoded `@`s: it runs to the last `@` before the host.
    RuleDef {
        kind: SecretKind::UrlPassword,
        pattern: r#"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>\\]+:([^@\s/"]+(?:@[^@\s/?#"]+)*)@"#,
        groups: &[1],
        check: Check::UrlPassword,
    },
    RuleDef {
        kind: SecretKind::Email,
        pattern: r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?-u:\b)",
        groups: &[0],
        check: Check::Email,
    },
    // JSON embedded in text (`{"password":"hunter2"}`, also with escaped quotes): any length.
    RuleDef {
        kind: SecretKind::GenericApiKey,
        pattern: r#"(?i)\\?"(?:password|passwd|pwd|secret|client_secret|api[_-]?key|access_token|refresh_token|private_key)\\?"\s*:\s*\\?"([^"\\]+)\\?""#,
        groups: &[1],
        check: Check::NotPlaceholder,
    },
    // key=value / key: value / "key": "value"; the value is quoted or runs to a delimiter.
    RuleDef {
        kind: SecretKind::GenericApiKey,
        pattern: r#"(?i)((?:api[_-]?key|secret|token|password|passwd|pwd)(?:[_-]?key)?)(\\?["']?\s*[=:]\s*)(?:\\?"([^"\\]{8,})\\?"|'([^']{8,})'|([^\s"'&,;]{8,}))"#,
        groups: &[3, 4, 5],
        check: Check::Generic,
    },
];

#[derive(Debug)]
struct Rule {
    def: &'static RuleDef,
    re: Regex,
}

/// Compiles a built-in pattern; one that fails is skipped (a unit test asserts none does).
fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

static COMPILED: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    RULES
        .iter()
        .filter_map(|def| compile(def.pattern).map(|re| Rule { def, re }))
        .collect()
});

/// One pass over a string telling whether any rule could apply; `None` (never expected)
/// means every string goes through every rule.
static GATE: LazyLock<Option<RegexSet>> =
    LazyLock::new(|| RegexSet::new(RULES.iter().map(|d| d.pattern)).ok());

// ---------------------------------------------------------------------------------------
// Redactor

impl Redactor {
    /// A redactor masking `fields` in addition to [`DEFAULT_FIELDS`].
    pub fn new(fields: &[String]) -> Redactor {
        let mut out: Vec<String> = Vec::new();
        for field in fields {
            let norm: String = field
                .trim()
                .chars()
                .map(|c| {
                    if c == '-' {
                        '_'
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            if norm.is_empty()
                || out.contains(&norm)
                || DEFAULT_FIELDS
                    .iter()
                    .any(|d| key_matches(&norm, d) && norm.len() == d.len())
            {
                continue;
            }
            out.push(norm);
        }
        Redactor {
            fields: out,
            style: MaskStyle::Kind,
        }
    }

    /// The same redactor writing masks in `style`.
    pub fn with_style(mut self, style: MaskStyle) -> Redactor {
        self.style = style;
        self
    }

    /// True when `key` (a JSON key or OTLP attribute key) names a configured field: its
    /// last dotted segment equals a field name, case-insensitively, `-` and `_` alike.
    /// A configured name with dots (`db.password`) matches that many trailing segments.
    pub fn is_field(&self, key: &str) -> bool {
        DEFAULT_FIELDS.iter().any(|f| key_matches(key, f))
            || self.fields.iter().any(|f| key_matches(key, f))
    }

    /// Masks secrets inside free text; returns `None` when nothing changed (no allocation).
    /// Each secret masked is counted in `report` at `place`.
    pub fn text(&self, s: &str, report: &mut Report, place: &str) -> Option<String> {
        self.mask_text(s, &mut |kind| report.record(kind, || place.to_owned()))
    }

    /// Masks inside a JSON value in place: every string value is passed through
    /// [`Redactor::text`]; a value (of any type but `null`) under a key that is a
    /// configured field is replaced whole by the mask. Object keys are not changed.
    /// `place` (e.g. `logs/app.jsonl:12`) gets the JSON path appended in the report
    /// (`logs/app.jsonl:12 $.user.password`). In OTLP attribute lists
    /// (`{"key": K, "value": {...}}`, also HAR-style `{"name": K, "value": V}`) whose `K`
    /// is a configured field, the value becomes `{"stringValue": "[REDACTED:field]"}`.
    /// Returns true if anything changed. Recursive: values parsed by `serde_json` are at
    /// most 128 levels deep.
    pub fn json(&self, v: &mut Value, report: &mut Report, place: &str) -> bool {
        let mut path: Vec<Seg<'_>> = Vec::new();
        self.walk(v, report, place, &mut path)
    }

    fn mask(&self, kind: SecretKind) -> &'static str {
        match self.style {
            MaskStyle::Kind => kind.mask(),
            MaskStyle::Plain => "[REDACTED]",
        }
    }

    /// Runs every rule over `s`, calling `hit` once per secret masked.
    fn mask_text(&self, s: &str, hit: &mut dyn FnMut(SecretKind)) -> Option<String> {
        if let Some(gate) = &*GATE
            && !gate.is_match(s)
        {
            return None;
        }
        let mut current: Option<String> = None;
        for rule in COMPILED.iter() {
            let src: &str = current.as_deref().unwrap_or(s);
            if let Some(next) = self.apply(rule, src, hit) {
                current = Some(next);
            }
        }
        current
    }

    /// One pass of one rule over `s`: each accepted match has its secret replaced.
    fn apply(&self, rule: &Rule, s: &str, hit: &mut dyn FnMut(SecretKind)) -> Option<String> {
        let mut out: Option<String> = None;
        let mut copied = 0usize;
        let mut pos = 0usize;
        let mut masked: Option<Vec<(usize, usize)>> = None;
        while pos <= s.len() {
            let Some(caps) = rule.re.captures_at(s, pos) else {
                break;
            };
            let Some(whole) = caps.get(0) else {
                break;
            };
            pos = if whole.end() > whole.start() {
                whole.end()
            } else {
                s[whole.end()..]
                    .chars()
                    .next()
                    .map_or(s.len() + 1, |c| whole.end() + c.len_utf8())
            };
            let Some(secret) = rule.def.groups.iter().find_map(|&g| caps.get(g)) else {
                continue;
            };
            if secret.start() == secret.end() || secret.start() < copied {
                continue;
            }
            let spans = masked.get_or_insert_with(|| masked_spans(s));
            if spans
                .iter()
                .any(|&(a, b)| secret.start() < b && a < secret.end())
            {
                continue;
            }
            if !accept(rule.def.check, s, &caps, &secret) {
                continue;
            }
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(&s[copied..secret.start()]);
            o.push_str(self.mask(rule.def.kind));
            copied = secret.end();
            hit(rule.def.kind);
        }
        let mut o = out?;
        o.push_str(&s[copied..]);
        Some(o)
    }

    fn walk<'a>(
        &self,
        v: &'a mut Value,
        report: &mut Report,
        place: &str,
        path: &mut Vec<Seg<'a>>,
    ) -> bool {
        match v {
            Value::String(s) => {
                let masked = self.mask_text(s, &mut |kind| {
                    report.record(kind, || self.render_place(place, path.as_slice()))
                });
                match masked {
                    Some(m) => {
                        *s = m;
                        true
                    }
                    None => false,
                }
            }
            Value::Array(items) => {
                let mut changed = false;
                for (i, item) in items.iter_mut().enumerate() {
                    path.push(Seg::Index(i));
                    changed |= self.walk(item, report, place, path);
                    path.pop();
                }
                changed
            }
            Value::Object(map) => self.walk_object(map, report, place, path),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }

    fn walk_object<'a>(
        &self,
        map: &'a mut Map<String, Value>,
        report: &mut Report,
        place: &str,
        path: &mut Vec<Seg<'a>>,
    ) -> bool {
        let mut changed = false;
        let mut value_done = false;
        if let Some(kind) = self.pair_kind(map) {
            let mask = self.mask(kind);
            let masked = match map.get_mut("value") {
                Some(val) if kind == SecretKind::Field => mask_field_value(val, mask),
                Some(val) => mask_aws_value(val, mask),
                None => false,
            };
            if masked {
                changed = true;
                value_done = true;
                path.push(Seg::Key("value"));
                report.record(kind, || self.render_place(place, path.as_slice()));
                path.pop();
            }
        }
        for (key, child) in map.iter_mut() {
            if value_done && key.as_str() == "value" {
                continue;
            }
            path.push(Seg::Key(key.as_str()));
            changed |= self.walk_entry(key.as_str(), child, report, place, path);
            path.pop();
        }
        changed
    }

    /// One `key: value` entry; `path` already ends with `key`.
    fn walk_entry<'a>(
        &self,
        key: &str,
        child: &'a mut Value,
        report: &mut Report,
        place: &str,
        path: &mut Vec<Seg<'a>>,
    ) -> bool {
        if self.is_field(key) {
            let mask = self.mask(SecretKind::Field);
            let replace = match &*child {
                Value::Null => false,
                Value::String(s) => s.as_str() != mask,
                _ => true,
            };
            if !replace {
                return false;
            }
            *child = Value::String(mask.to_owned());
            report.record(SecretKind::Field, || {
                self.render_place(place, path.as_slice())
            });
            return true;
        }
        if is_aws_secret_name(key)
            && let Value::String(s) = &mut *child
            && is_aws_secret_value(s.as_str())
        {
            *s = self.mask(SecretKind::AwsSecretKey).to_owned();
            report.record(SecretKind::AwsSecretKey, || {
                self.render_place(place, path.as_slice())
            });
            return true;
        }
        self.walk(child, report, place, path)
    }

    /// For `{"key"|"name": K, "value": V}` objects: what masking `K` calls for.
    fn pair_kind(&self, map: &Map<String, Value>) -> Option<SecretKind> {
        if !map.contains_key("value") {
            return None;
        }
        for name_key in ["key", "name"] {
            if let Some(Value::String(k)) = map.get(name_key) {
                if self.is_field(k) {
                    return Some(SecretKind::Field);
                }
                if is_aws_secret_name(k) {
                    return Some(SecretKind::AwsSecretKey);
                }
            }
        }
        None
    }

    /// `place $.a.b[3]`; keys are shown with any secret in them masked.
    fn render_place(&self, place: &str, path: &[Seg<'_>]) -> String {
        let mut out = String::with_capacity(place.len() + 32);
        out.push_str(place);
        if !place.is_empty() {
            out.push(' ');
        }
        out.push('$');
        for seg in path {
            match seg {
                Seg::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
                Seg::Key(k) => {
                    let shown: Cow<'_, str> = match self.mask_text(k, &mut |_: SecretKind| {}) {
                        Some(m) => Cow::Owned(m),
                        None => Cow::Borrowed(*k),
                    };
                    if is_ident(&shown) {
                        out.push('.');
                        out.push_str(&shown);
                    } else {
                        out.push('[');
                        out.push_str(&serde_json::to_string(&*shown).unwrap_or_default());
                        out.push(']');
                    }
                }
            }
        }
        out
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

// ---------------------------------------------------------------------------------------
// Helpers

/// Byte ranges of masks already in `s`: `[REDACTED]` and `[REDACTED:kind]`.
fn masked_spans(s: &str) -> Vec<(usize, usize)> {
    const HEAD: &str = "[REDACTED";
    let mut spans = Vec::new();
    let mut from = 0usize;
    while let Some(rel) = s[from..].find(HEAD) {
        let start = from + rel;
        let after = start + HEAD.len();
        let rest = &s[after..];
        let len = if rest.starts_with(']') {
            Some(1)
        } else if let Some(tail) = rest.strip_prefix(':') {
            let n = tail
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
                .count();
            if tail.as_bytes().get(n) == Some(&b']') {
                Some(n + 2)
            } else {
                None
            }
        } else {
            None
        };
        match len {
            Some(l) => {
                spans.push((start, after + l));
                from = after + l;
            }
            None => from = after,
        }
    }
    spans
}

fn norm_byte(b: u8) -> u8 {
    if b == b'-' {
        b'_'
    } else {
        b.to_ascii_lowercase()
    }
}

/// `key` ends with `field` at a `.` boundary (or equals it), case-insensitively, `-` = `_`.
fn key_matches(key: &str, field: &str) -> bool {
    let (k, f) = (key.as_bytes(), field.as_bytes());
    if f.is_empty() || k.len() < f.len() {
        return false;
    }
    let cut = k.len() - f.len();
    if cut > 0 && k[cut - 1] != b'.' {
        return false;
    }
    k[cut..]
        .iter()
        .zip(f)
        .all(|(a, b)| norm_byte(*a) == norm_byte(*b))
}

/// Keys such as `aws_secret_access_key`, `SecretAccessKey`, `aws.secret_key`.
fn is_aws_secret_name(key: &str) -> bool {
    ["secretaccesskey", "awssecretkey", "awssecret"]
        .iter()
        .any(|suffix| alnum_lower_ends_with(key, suffix))
}

fn alnum_lower_ends_with(key: &str, suffix: &str) -> bool {
    let mut it = key
        .bytes()
        .rev()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase());
    suffix.bytes().rev().all(|b| it.next() == Some(b))
}

fn is_aws_secret_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'/' || b == b'+' || b == b'='
}

/// Exactly 40 characters of `[A-Za-z0-9/+=]` mixing at least two of lower, upper, digit.
fn is_aws_secret_value(v: &str) -> bool {
    v.len() == 40 && v.bytes().all(is_aws_secret_byte) && alnum_classes(v) >= 2
}

/// How many of lowercase, uppercase, digit occur in `v`.
fn alnum_classes(v: &str) -> usize {
    let (lo, up, di, _) = classes(v);
    usize::from(lo) + usize::from(up) + usize::from(di)
}

/// Whether `v` has (lowercase, uppercase, digit, anything else).
fn classes(v: &str) -> (bool, bool, bool, bool) {
    let (mut lo, mut up, mut di, mut ot) = (false, false, false, false);
    for b in v.bytes() {
        if b.is_ascii_lowercase() {
            lo = true;
        } else if b.is_ascii_uppercase() {
            up = true;
        } else if b.is_ascii_digit() {
            di = true;
        } else {
            ot = true;
        }
    }
    (lo, up, di, ot)
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn is_ident(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `${VAR}`, `$(cmd)`, `$VAR`, `{{ tpl }}`, `%(name)s`, `<your-key>`, `********`, `null`...
fn is_placeholder(v: &str) -> bool {
    let b = v.as_bytes();
    let Some(&first) = b.first() else {
        return true;
    };
    if v.starts_with("${")
        || v.starts_with("$(")
        || v.starts_with("{{")
        || v.starts_with("%(")
        || v.starts_with('<')
    {
        return true;
    }
    if first == b'$'
        && b.len() > 1
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
    {
        return true;
    }
    if b.iter().all(|&c| c == first) {
        return true;
    }
    const WORDS: &[&str] = &[
        "undefined",
        "null",
        "none",
        "redacted",
        "[redacted]",
        "<redacted>",
        "(redacted)",
        "[filtered]",
        "[hidden]",
    ];
    WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
}

fn is_path_like(v: &str) -> bool {
    let b = v.as_bytes();
    v.starts_with('/')
        || v.starts_with('~')
        || v.starts_with("./")
        || v.starts_with("../")
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && (b[2] == b'\\' || b[2] == b'/'))
}

/// File extensions that are not top-level domains: `icon@2x.png` is not an address.
const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "heic",
    "heif", "apng", "css", "scss", "sass", "less", "js", "mjs", "cjs", "jsx", "ts", "tsx", "map",
    "json", "jsonl", "yaml", "yml", "toml", "xml", "html", "htm", "txt", "log", "csv", "tsv",
    "woff", "ttf", "otf", "eot", "wav", "ogg", "webm", "avi", "mkv", "flac", "pdf", "gz", "tgz",
    "tar", "xz", "zst", "rar", "rb", "java", "kt", "swift", "cpp", "hpp", "php", "lua", "dart",
    "vue", "svelte", "wasm", "exe", "dll", "dylib", "bin", "dat", "db", "sqlite", "lock", "bak",
    "tmp", "ini", "cfg", "conf", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
];

fn accept(check: Check, s: &str, caps: &Captures<'_>, secret: &Match<'_>) -> bool {
    let v = secret.as_str();
    match check {
        Check::Always => true,
        Check::NotPlaceholder | Check::UrlPassword => !is_placeholder(v),
        Check::OpenAi => openai_like(v),
        Check::Slack => v.bytes().any(|b| b.is_ascii_digit()),
        Check::AwsSecret => {
            s[secret.end()..]
                .bytes()
                .next()
                .is_none_or(|b| !is_aws_secret_byte(b))
                && alnum_classes(v) >= 2
        }
        Check::Bearer => {
            let (lo, up, di, _) = classes(v);
            !v.starts_with('/') && (di || (lo && up)) && !is_placeholder(v)
        }
        Check::Email => email_like(s, secret),
        Check::Generic => generic_like(caps, v),
    }
}

/// `sk-` keys have a random body; kebab-case words (`sk-learn-...`) do not.
fn openai_like(m: &str) -> bool {
    let Some(body) = m.strip_prefix("sk-") else {
        return false;
    };
    if ["proj-", "svcacct-", "admin-"]
        .iter()
        .any(|p| body.starts_with(p))
    {
        return true;
    }
    body.split(['-', '_']).any(|seg| {
        seg.len() >= 40
            || (seg.len() >= 10
                && seg.bytes().any(|b| b.is_ascii_digit())
                && seg.bytes().any(|b| b.is_ascii_alphabetic()))
    })
}

fn email_like(s: &str, m: &Match<'_>) -> bool {
    let v = m.as_str();
    let Some((_, domain)) = v.rsplit_once('@') else {
        return false;
    };
    let tld = domain.rsplit('.').next().unwrap_or_default();
    if FILE_EXTENSIONS.iter().any(|e| tld.eq_ignore_ascii_case(e)) {
        return false;
    }
    // Retina assets: `logo@2x.anything`.
    let first = domain.split('.').next().unwrap_or_default();
    if let Some(n) = first.strip_suffix(['x', 'X'])
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    // A user name in a URL without a password (`ssh://git@github.com/...`).
    if s[..m.start()].ends_with("://") {
        return false;
    }
    // An scp-style remote (`git@github.com:org/repo.git`).
    if let Some(rest) = s[m.end()..].strip_prefix(':') {
        let tail = rest.split(char::is_whitespace).next().unwrap_or_default();
        if tail.contains('/') || tail.ends_with(".git") {
            return false;
        }
    }
    true
}

/// `key=value`: the value is not a placeholder, number, path (for `pwd`) or, after an
/// unquoted `key: `, a plain word (`invalid token: expected ...`).
fn generic_like(caps: &Captures<'_>, v: &str) -> bool {
    if is_placeholder(v) || !v.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let key = caps.get(1).map_or("", |m| m.as_str());
    let sep = caps.get(2).map_or("", |m| m.as_str());
    let pwd = starts_with_ci(key, "pwd");
    if pwd && is_path_like(v) {
        return false;
    }
    let passwordish = pwd || starts_with_ci(key, "pass");
    if !passwordish && !v.bytes().any(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let quoted = caps.get(3).is_some() || caps.get(4).is_some();
    if !quoted && !sep.contains('=') {
        let (lo, up, di, ot) = classes(v);
        if usize::from(lo) + usize::from(up) + usize::from(di) + usize::from(ot) < 2 {
            return false;
        }
    }
    true
}

/// Masks the value of a `{"key": <field>, "value": V}` pair, keeping an OTLP `AnyValue`
/// an `AnyValue`. False when there is nothing to mask or it is masked already.
fn mask_field_value(val: &mut Value, mask: &str) -> bool {
    let replace = match &*val {
        Value::Null => false,
        Value::String(s) => s.as_str() != mask,
        Value::Object(inner) => {
            let already_masked = inner.len() == 1
                && matches!(inner.get("stringValue"), Some(Value::String(s)) if s.as_str() == mask);
            !inner.is_empty() && !already_masked
        }
        Value::Bool(_) | Value::Number(_) | Value::Array(_) => true,
    };
    if !replace {
        return false;
    }
    *val = if val.is_object() {
        let mut any = Map::new();
        any.insert("stringValue".to_owned(), Value::String(mask.to_owned()));
        Value::Object(any)
    } else {
        Value::String(mask.to_owned())
    };
    true
}

/// Masks an AWS secret key held by a `{"key": "aws.secret_access_key", "value": V}` pair.
fn mask_aws_value(val: &mut Value, mask: &str) -> bool {
    let target = match val {
        Value::String(s) => Some(s),
        Value::Object(inner) => match inner.get_mut("stringValue") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    };
    match target {
        Some(s) if is_aws_secret_value(s.as_str()) => {
            *s = mask.to_owned();
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    // Planted secrets, assembled from pieces so they do not look like secrets in the source.
    const OPENAI_PROJ: &str = concat!(
        "sk-",
        "proj-",
        "Xy7Qm2Lp9Rt4Vw8Zb3Nc6Kd1Hf5Gj0Ts2Ua9IeT3BlbkFJ"
    );
    const OPENAI_LEGACY: &str = concat!("sk-", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34");
    const ANTHROPIC: &str = concat!(
        "sk-",
        "ant-",
        "api03-",
        "Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa-_ZyAA"
    );
    const AWS_ACCESS: &str = concat!("AKIA", "Z7QXJ4MPL2VW8KRD");
    const AWS_SECRET: &str = concat!("Qh3vT9pL2xWm8Rz5Nk1Y", "b7Jd4Fs6Gc0Ae/Uo+Ti3");
    const GITHUB_CLASSIC: &str = concat!("ghp", "_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    const GITHUB_PAT: &str = concat!(
        "github",
        "_pat_",
        "11AAB2CCD0abcdEFGH1234_ijklMNOPqrst5678UVWXyz90"
    );
    const SLACK: &str = concat!(
        "xo",
        "xb-",
        "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    );
    const SLACK_HOOK_SECRET: &str = "aB3dE6gH9jK2mN5pQ8sT1vW4";
    const BEARER: &str = "a1B2c3D4e5F6g7H8i9J0k1L2";
    const JWT: &str = concat!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        ".",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0",
        ".",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    );
    const URL_PASSWORD: &str = "S3cr3tP4ssw0rd";
    const EMAIL: &str = "jane.doe@acme-mail.org";
    const PRIVATE_KEY: &str = concat!(
        "-----BEGIN RSA ",
        "PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEAx7Qm2Lp9Rt4Vw8Zb3Nc6Kd1Hf5Gj0Ts2Ua9Ie\n",
        "q8Wm3Lp2Zt7Vx4Nb9Kc1Hd6Gf0Js5Ra2UeYt\n",
        "-----END RSA ",
        "PRIVATE KEY-----"
    );
    const GENERIC: &str = "Zx81Lmq0Pw7Rk2Tn";

    /// Neither the secret nor any 8-character piece of it occurs in `out`.
    fn assert_no_leak(out: &str, secret: &str) {
        assert!(
            !out.contains(secret),
            "secret {secret:?} leaked into {out:?}"
        );
        for w in secret.as_bytes().windows(8) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(
                !out.contains(w),
                "piece {w:?} of {secret:?} leaked into {out:?}"
            );
        }
    }

    fn counts(pairs: &[(SecretKind, u64)]) -> BTreeMap<SecretKind, u64> {
        let mut m = BTreeMap::new();
        for &(k, n) in pairs {
            *m.entry(k).or_insert(0) += n;
        }
        m
    }

    #[test]
    fn builtin_patterns_compile() {
        for def in RULES {
            assert!(
                Regex::new(def.pattern).is_ok(),
                "pattern does not compile: {}",
                def.pattern
            );
        }
        assert_eq!(COMPILED.len(), RULES.len());
        assert!(GATE.is_some());
    }

    #[test]
    fn kind_names_match_serde_and_masks() {
        for k in SecretKind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
            assert_eq!(k.mask(), format!("[REDACTED:{}]", k.as_str()));
            assert_eq!(k.to_string(), k.as_str());
        }
    }

    #[test]
    fn each_kind_in_free_text() {
        let block = format!("key follows\n{PRIVATE_KEY}\nend");
        let cases = [
            (
                SecretKind::OpenaiKey,
                format!("using OPENAI_API_KEY={OPENAI_PROJ} now"),
                OPENAI_PROJ,
            ),
            (
                SecretKind::OpenaiKey,
                format!("key {OPENAI_LEGACY} loaded"),
                OPENAI_LEGACY,
            ),
            (
                SecretKind::AnthropicKey,
                format!("x-api-key: {ANTHROPIC}"),
                ANTHROPIC,
            ),
            (
                SecretKind::AwsAccessKey,
                format!("aws_access_key_id={AWS_ACCESS}"),
                AWS_ACCESS,
            ),
            (
                SecretKind::AwsSecretKey,
                format!("aws_secret_access_key = {AWS_SECRET}"),
                AWS_SECRET,
            ),
            (
                SecretKind::AwsSecretKey,
                format!("{{\"SecretAccessKey\": \"{AWS_SECRET}\"}}"),
                AWS_SECRET,
            ),
            (
                SecretKind::GithubToken,
                format!("pushed with {GITHUB_CLASSIC}."),
                GITHUB_CLASSIC,
            ),
            (
                SecretKind::GithubToken,
                format!("GH={GITHUB_PAT}"),
                GITHUB_PAT,
            ),
            (SecretKind::SlackToken, format!("slack {SLACK} ok"), SLACK),
            (
                SecretKind::SlackToken,
                format!(
                    "POST https://hooks.slack.com/services/T0ABC1234/B0DEF5678/{SLACK_HOOK_SECRET}"
                ),
                SLACK_HOOK_SECRET,
            ),
            (
                SecretKind::BearerToken,
                format!("Authorization: Bearer {BEARER}"),
                BEARER,
            ),
            (
                SecretKind::BearerToken,
                format!("authorization: bearer {JWT}"),
                JWT,
            ),
            (SecretKind::Jwt, format!("id_token={JWT}"), JWT),
            (
                SecretKind::UrlPassword,
                format!("connecting to postgres://admin:{URL_PASSWORD}@db.internal:5432/app"),
                URL_PASSWORD,
            ),
            (
                SecretKind::UrlPassword,
                "redis://default:p@ss-W0rd!@cache.local:6379".to_owned(),
                "p@ss-W0rd!",
            ),
            (
                SecretKind::Email,
                format!("contact {EMAIL} for access"),
                EMAIL,
            ),
            (SecretKind::PrivateKey, block, PRIVATE_KEY),
            (
                SecretKind::PrivateKey,
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA".to_owned(),
                "b3BlbnNzaC1rZXktdjEAAAAA",
            ),
            (
                SecretKind::GenericApiKey,
                format!("GET /v1?api_key={GENERIC}&user=1"),
                GENERIC,
            ),
            (
                SecretKind::GenericApiKey,
                "client_secret: 'aB3$kL9!mN2@'".to_owned(),
                "aB3$kL9!mN2@",
            ),
            (
                SecretKind::GenericApiKey,
                "body {\"username\":\"bob\",\"password\":\"hunter2\"}".to_owned(),
                "hunter2",
            ),
            (
                SecretKind::GenericApiKey,
                "Authorization: Basic dXNlcjpwYXNzd29yZA==".to_owned(),
                "dXNlcjpwYXNzd29yZA==",
            ),
        ];
        let r = Redactor::default();
        for (kind, input, secret) in &cases {
            let mut report = Report::default();
            let out = r.text(input, &mut report, "logs/app.jsonl:7");
            let out = out.unwrap_or_else(|| panic!("nothing masked in {input:?}"));
            assert_no_leak(&out, secret);
            assert!(out.contains(kind.mask()), "{out:?} lacks {}", kind.mask());
            assert_eq!(report.total, 1, "{input:?} -> {out:?}: {report:?}");
            assert_eq!(
                report.by_kind,
                counts(&[(*kind, 1)]),
                "{input:?} -> {out:?}"
            );
            assert_eq!(report.places.len(), 1);
            assert_eq!(report.places[0].place, "logs/app.jsonl:7");
            assert_no_leak(&serde_json::to_string(&report).unwrap(), secret);
            // Idempotent: a second pass finds nothing.
            assert!(r.text(&out, &mut report, "again").is_none(), "{out:?}");
        }
    }

    #[test]
    fn exact_outputs() {
        let r = Redactor::default();
        let mut rep = Report::default();
        let mut t = |s: &str| r.text(s, &mut rep, "p").unwrap();
        assert_eq!(
            t(&format!("postgres://user:{URL_PASSWORD}@host/db")),
            "postgres://user:[REDACTED:url_password]@host/db"
        );
        assert_eq!(
            t("redis://default:p@ss-W0rd!@cache.local:6379"),
            "redis://default:[REDACTED:url_password]@cache.local:6379"
        );
        assert_eq!(
            t(&format!("Bearer {BEARER}")),
            "Bearer [REDACTED:bearer_token]"
        );
        assert_eq!(
            t(&format!("Bearer {JWT}")),
            "Bearer [REDACTED:bearer_token]"
        );
        assert_eq!(t(&format!("mail {EMAIL}.")), "mail [REDACTED:email].");
        assert_eq!(
            t(&format!("api_key={GENERIC}&x=1")),
            "api_key=[REDACTED:generic_api_key]&x=1"
        );
        assert_eq!(
            t(&format!("{{\"api_key\": \"{GENERIC}\"}}")),
            "{\"api_key\": \"[REDACTED:generic_api_key]\"}"
        );
        assert_eq!(
            t(&format!("password: {GENERIC}")),
            "password: [REDACTED:generic_api_key]"
        );
        assert_eq!(
            t(&format!(
                "https://hooks.slack.com/services/T0ABC1234/B0DEF5678/{SLACK_HOOK_SECRET}"
            )),
            "https://hooks.slack.com/services/T0ABC1234/B0DEF5678/[REDACTED:slack_token]"
        );
        assert_eq!(
            t(&format!("a\n{PRIVATE_KEY}\nb")),
            "a\n[REDACTED:private_key]\nb"
        );
        assert_eq!(
            t(&format!("OPENAI_API_KEY={OPENAI_PROJ}")),
            "OPENAI_API_KEY=[REDACTED:openai_key]"
        );
        assert_eq!(t(&format!("k={ANTHROPIC}")), "k=[REDACTED:anthropic_key]");
        assert_eq!(
            t(&format!("export AWS_SECRET_ACCESS_KEY=\"{AWS_SECRET}\"")),
            "export AWS_SECRET_ACCESS_KEY=\"[REDACTED:aws_secret_key]\""
        );
    }

    #[test]
    fn all_kinds_together_are_counted_exactly() {
        let text = format!(
            "OPENAI_API_KEY={OPENAI_PROJ}\nx-api-key: {ANTHROPIC}\naws_access_key_id={AWS_ACCESS}\n\
             aws_secret_access_key={AWS_SECRET}\ngit {GITHUB_CLASSIC} {GITHUB_PAT}\nslack {SLACK}\n\
             Authorization: Bearer {BEARER}\nid_token={JWT}\n\
             dsn=postgres://admin:{URL_PASSWORD}@db.internal:5432/app\nmail {EMAIL}\n{PRIVATE_KEY}\n\
             api_key={GENERIC}\nlegacy {OPENAI_LEGACY}\n"
        );
        let r = Redactor::default();
        let mut report = Report::default();
        let out = r.text(&text, &mut report, "bundle.txt").unwrap();
        for secret in [
            OPENAI_PROJ,
            ANTHROPIC,
            AWS_ACCESS,
            AWS_SECRET,
            GITHUB_CLASSIC,
            GITHUB_PAT,
            SLACK,
            BEARER,
            JWT,
            URL_PASSWORD,
            EMAIL,
            PRIVATE_KEY,
            GENERIC,
            OPENAI_LEGACY,
        ] {
            assert_no_leak(&out, secret);
            assert_no_leak(&serde_json::to_string(&report).unwrap(), secret);
        }
        assert_eq!(
            report.by_kind,
            counts(&[
                (SecretKind::OpenaiKey, 2),
                (SecretKind::AnthropicKey, 1),
                (SecretKind::AwsAccessKey, 1),
                (SecretKind::AwsSecretKey, 1),
                (SecretKind::GithubToken, 2),
                (SecretKind::SlackToken, 1),
                (SecretKind::BearerToken, 1),
                (SecretKind::Jwt, 1),
                (SecretKind::UrlPassword, 1),
                (SecretKind::Email, 1),
                (SecretKind::PrivateKey, 1),
                (SecretKind::GenericApiKey, 1),
            ])
        );
        assert_eq!(report.total, 14);
        assert!(out.contains("Authorization: Bearer [REDACTED:bearer_token]"));
        assert!(out.contains("postgres://admin:[REDACTED:url_password]@db.internal:5432/app"));
        assert!(r.text(&out, &mut Report::default(), "again").is_none());
    }

    #[test]
    fn nested_json_log() {
        let mut v = json!({
            "ts": "2024-05-01T12:34:56.789Z",
            "level": "info",
            "msg": format!("calling model with {OPENAI_PROJ}"),
            "user": {
                "email": EMAIL,
                "password": "pw-123456",
                "profile": {"Cookie": "sess=abc", "tags": ["a", format!("ping {EMAIL}")]}
            },
            "http": {
                "headers": [["Accept", "*/*"], ["Authorization", format!("Bearer {BEARER}")]],
                "url": format!("postgres://admin:{URL_PASSWORD}@db.internal:5432/app")
            },
            "config": {"ApiKey": 12345, "retries": 3, "password": null}
        });
        let r = Redactor::default();
        let mut report = Report::default();
        assert!(r.json(&mut v, &mut report, "logs/app.jsonl:12"));
        let out = serde_json::to_string(&v).unwrap();
        let rep = serde_json::to_string(&report).unwrap();
        for secret in [
            OPENAI_PROJ,
            EMAIL,
            "pw-123456",
            "sess=abc",
            BEARER,
            URL_PASSWORD,
        ] {
            assert_no_leak(&out, secret);
            assert_no_leak(&rep, secret);
        }
        assert_eq!(
            report.by_kind,
            counts(&[
                (SecretKind::OpenaiKey, 1),
                (SecretKind::Email, 2),
                (SecretKind::Field, 3),
                (SecretKind::BearerToken, 1),
                (SecretKind::UrlPassword, 1),
            ])
        );
        assert_eq!(report.total, 8);
        assert_eq!(v["user"]["password"], "[REDACTED:field]");
        assert_eq!(v["user"]["profile"]["Cookie"], "[REDACTED:field]");
        assert_eq!(v["config"]["ApiKey"], "[REDACTED:field]");
        assert_eq!(v["config"]["retries"], 3);
        assert_eq!(v["config"]["password"], Value::Null);
        assert_eq!(v["ts"], "2024-05-01T12:34:56.789Z");
        assert_eq!(v["http"]["headers"][1][1], "Bearer [REDACTED:bearer_token]");
        assert_eq!(v["user"]["email"], "[REDACTED:email]");
        let places: Vec<&str> = report.places.iter().map(|p| p.place.as_str()).collect();
        for want in [
            "logs/app.jsonl:12 $.user.password",
            "logs/app.jsonl:12 $.user.email",
            "logs/app.jsonl:12 $.user.profile.tags[1]",
            "logs/app.jsonl:12 $.http.headers[1][1]",
            "logs/app.jsonl:12 $.msg",
            "logs/app.jsonl:12 $.config.ApiKey",
        ] {
            assert!(places.contains(&want), "{want} not in {places:?}");
        }
        // A second pass changes nothing.
        assert!(!r.json(&mut v, &mut Report::default(), "again"));
    }

    #[test]
    fn otlp_attribute_lists() {
        let mut v = json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                "spanId": "00f067aa0ba902b7",
                "name": "chat gpt-4o-mini",
                "attributes": [
                    {"key": "user.password", "value": {"stringValue": "hunter2hunter2"}},
                    {"key": "http.request.header.authorization", "value": {"stringValue": format!("Bearer {BEARER}")}},
                    {"key": "db.connection_string", "value": {"stringValue": format!("postgres://app:{URL_PASSWORD}@db/x")}},
                    {"key": "retry.count", "value": {"intValue": "3"}},
                    {"key": "api_key", "value": {"intValue": "987654321"}},
                    {"key": "aws.secret_access_key", "value": {"stringValue": AWS_SECRET}},
                    {"key": "gen_ai.prompt", "value": {"stringValue": format!("my key is {GITHUB_CLASSIC}")}},
                    {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": EMAIL}]}}}
                ]
            }]}]
        }]});
        let r = Redactor::default();
        let mut report = Report::default();
        assert!(r.json(&mut v, &mut report, "traces/t.json"));
        let out = serde_json::to_string(&v).unwrap();
        let rep = serde_json::to_string(&report).unwrap();
        for secret in [
            "hunter2hunter2",
            BEARER,
            URL_PASSWORD,
            "987654321",
            AWS_SECRET,
            GITHUB_CLASSIC,
            EMAIL,
        ] {
            assert_no_leak(&out, secret);
            assert_no_leak(&rep, secret);
        }
        let attrs = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
        assert_eq!(
            attrs[0],
            json!({"key": "user.password", "value": {"stringValue": "[REDACTED:field]"}})
        );
        assert_eq!(
            attrs[1]["value"],
            json!({"stringValue": "[REDACTED:field]"})
        );
        assert_eq!(
            attrs[2]["value"]["stringValue"],
            "postgres://app:[REDACTED:url_password]@db/x"
        );
        assert_eq!(
            attrs[3],
            json!({"key": "retry.count", "value": {"intValue": "3"}})
        );
        assert_eq!(
            attrs[4]["value"],
            json!({"stringValue": "[REDACTED:field]"})
        );
        assert_eq!(
            attrs[5]["value"],
            json!({"stringValue": "[REDACTED:aws_secret_key]"})
        );
        assert_eq!(
            v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"],
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(
            report.by_kind,
            counts(&[
                (SecretKind::Field, 3),
                (SecretKind::UrlPassword, 1),
                (SecretKind::AwsSecretKey, 1),
                (SecretKind::GithubToken, 1),
                (SecretKind::Email, 1),
            ])
        );
        assert!(
            report.places.iter().any(|p| p.kind == SecretKind::Field
                && p.place == "traces/t.json $.resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value"),
            "{:?}",
            report.places
        );
        assert!(!r.json(&mut v, &mut Report::default(), "again"));
    }

    #[test]
    fn field_names_are_matched_on_last_segment_case_insensitively() {
        let r = Redactor::new(&[
            "SSN".to_owned(),
            "x-internal-auth".to_owned(),
            "db.pass".to_owned(),
        ]);
        for key in [
            "password",
            "PASSWORD",
            "user.password",
            "Set-Cookie",
            "set_cookie",
            "ApiKey",
            "api-key",
            "http.request.header.authorization",
            "ssn",
            "person.SSN",
            "X_Internal_Auth",
            "db.pass",
            "prod.db.pass",
        ] {
            assert!(r.is_field(key), "{key} should be a field");
        }
        for key in [
            "password_hint",
            "passwords",
            "token",
            "max_tokens",
            "pass",
            "mydb.pass2",
            "secretary",
            "ssn_last4",
        ] {
            assert!(!r.is_field(key), "{key} should not be a field");
        }
        let mut v = json!({"ssn": "123-45-6789", "headers": {"X_Internal_Auth": "abc"}, "form": [{"name": "password", "value": "hunter2"}], "user.password": "x"});
        let mut report = Report::default();
        assert!(r.json(&mut v, &mut report, ""));
        assert_eq!(v["ssn"], "[REDACTED:field]");
        assert_eq!(v["headers"]["X_Internal_Auth"], "[REDACTED:field]");
        assert_eq!(
            v["form"][0],
            json!({"name": "password", "value": "[REDACTED:field]"})
        );
        assert_eq!(v["user.password"], "[REDACTED:field]");
        assert_eq!(report.by_kind, counts(&[(SecretKind::Field, 4)]));
        let places: Vec<&str> = report.places.iter().map(|p| p.place.as_str()).collect();
        assert!(places.contains(&"$[\"user.password\"]"), "{places:?}");
        assert!(places.contains(&"$.form[0].value"), "{places:?}");
    }

    #[test]
    fn secrets_in_keys_never_reach_the_report() {
        let mut v = json!({"keys": {OPENAI_LEGACY: {"password": "x"}}});
        let mut report = Report::default();
        assert!(Redactor::default().json(&mut v, &mut report, "f"));
        assert_eq!(report.places.len(), 1);
        assert_eq!(
            report.places[0].place,
            "f $.keys[\"[REDACTED:openai_key]\"].password"
        );
        assert_no_leak(&serde_json::to_string(&report).unwrap(), OPENAI_LEGACY);
    }

    const NON_SECRETS: &[&str] = &[
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        "550e8400-e29b-41d4-a716-446655440000",
        "2024-05-01T12:34:56.789Z",
        "retry after 2024-05-01T12:34:56+02:00",
        "2024-05-01 12:34:56",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        "claude-3-5-sonnet-20241022",
        "claude-sonnet-4-20250514",
        "text-embedding-3-large",
        "/usr/local/bin/python3",
        "C:\\Users\\me\\AppData\\token.txt",
        "./src/redact.rs",
        "/home/user/.ssh/id_ed25519.pub",
        "node_modules/@types/node/index.d.ts",
        "at foo (/app/node_modules/pkg/index.js:10:5)",
        "https://api.openai.com/v1/chat/completions",
        "https://example.com:8443/path?q=1&b=2#frag",
        "http://localhost:8080/metrics",
        "https://github.com/org/repo/blob/main/src/lib.rs#L10",
        "ftp://ftp.example.com/pub/file.tar.gz",
        "https://hooks.slack.com/",
        "https://example.com/reset?token=abc",
        "v1.2.3",
        "1.75.0-nightly (2024-01-01)",
        "Python/3.12.1 sightline 0.1.0",
        "sk-learn",
        "sk-",
        "pip install sk-learn and scikit-learn",
        "sk-learn-and-pandas-and-numpy-tutorial",
        "task-runner-abcdefghijklmnop-queue",
        "risk-assessment-pipeline-component-v2",
        "icon@2x.png",
        "logo@3x.webp",
        "C:\\path\\file@2x.png",
        "styles@v2.css",
        "@scope/package",
        "lodash@4.17.21",
        "react@18.2.0",
        "nginx@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "git@github.com:org/repo.git",
        "ssh://git@github.com/org/repo.git",
        "https://bob@example.com/",
        "user@localhost",
        "user.name@example",
        "https://medium.com/@user.name/post",
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "max_tokens: 1024",
        "prompt_tokens=12345678",
        "total_tokens: 123456789",
        "tokenizer=cl100k_base",
        "token_count=42",
        "tokens/second: 42.5",
        "password_reset_url=https://example.com/reset",
        "the bearer of bad news",
        "see RFC 6750 (bearer tokens)",
        "WWW-Authenticate: Bearer realm=\"example\"",
        "Authorization header missing",
        "PWD=/home/runner/work/app",
        "pwd: /home/user/projects",
        "password: ********",
        "password=${DB_PASSWORD}",
        "api_key: <your-api-key-here>",
        "secret: {{ vault_secret }}",
        "token: 1234567890",
        "invalid token: expected 3 segments",
        "secret: [REDACTED:field]",
        "secretary: Jane",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
        "AKIA is a prefix",
        "eyJhbGciOiJIUzI1NiJ9",
        "xoxo-hugs-and-kisses",
        "ghp_short",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
        "price: $0.000150 per 1K tokens",
        "x-request-id: 7f9c2ba4e88f827d616045507605853e",
        "[REDACTED:openai_key] and [REDACTED]",
        "",
        "plain words, nothing to see here.",
        "unicode: héllo wörld ✓ 日本語",
    ];

    #[test]
    fn non_secrets_are_untouched() {
        let r = Redactor::default();
        let mut report = Report::default();
        for s in NON_SECRETS {
            let out = r.text(s, &mut report, "x");
            assert!(out.is_none(), "changed: {s:?} -> {out:?}");
        }
        assert!(report.is_empty(), "{report:?}");
        let mut v = Value::Array(NON_SECRETS.iter().map(|s| json!({"message": s})).collect());
        assert!(!r.json(&mut v, &mut report, "x"));
        assert!(report.is_empty(), "{report:?}");
    }

    #[test]
    fn json_without_secrets_is_byte_identical() {
        let src = r#"{"ts":"2024-05-01T12:34:56.789Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","model":"gpt-4o-mini","usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46},"token":"Hello","password_hint":"first pet","password":null,"msg":"GET https://api.openai.com/v1/chat/completions 200","tags":["a",1,2.5,true,null,{"k":"icon@2x.png"}],"escaped":"line\nbreak \"quoted\" \u00e9"}"#;
        let mut v: Value = serde_json::from_str(src).unwrap();
        let before = serde_json::to_string(&v).unwrap();
        let mut report = Report::default();
        assert!(!Redactor::default().json(&mut v, &mut report, "f"));
        assert_eq!(serde_json::to_string(&v).unwrap(), before);
        assert!(report.is_empty());
    }

    #[test]
    fn plain_mask_style() {
        let r = Redactor::default().with_style(MaskStyle::Plain);
        let mut report = Report::default();
        let out = r
            .text(
                &format!("key {OPENAI_LEGACY} and Bearer {BEARER}"),
                &mut report,
                "p",
            )
            .unwrap();
        assert_eq!(out, "key [REDACTED] and Bearer [REDACTED]");
        assert_eq!(
            report.by_kind,
            counts(&[(SecretKind::OpenaiKey, 1), (SecretKind::BearerToken, 1)])
        );
        assert!(r.text(&out, &mut report, "p").is_none());
        let mut v =
            json!({"password": "x", "attrs": [{"key": "secret", "value": {"intValue": 5}}]});
        assert!(r.json(&mut v, &mut report, "p"));
        assert_eq!(
            v,
            json!({"password": "[REDACTED]", "attrs": [{"key": "secret", "value": {"stringValue": "[REDACTED]"}}]})
        );
        assert!(!r.json(&mut v, &mut report, "p"));
    }

    #[test]
    fn report_places_are_capped_and_merge() {
        let mut a = Report::default();
        for i in 0..(MAX_PLACES + 5) {
            a.record(SecretKind::Email, || format!("f:{i}"));
        }
        assert_eq!(a.total, (MAX_PLACES + 5) as u64);
        assert_eq!(a.places.len(), MAX_PLACES);
        assert!(a.places_truncated);

        let mut b = Report::default();
        b.record(SecretKind::Jwt, || "b:1".to_owned());
        b.record(SecretKind::Email, || "b:2".to_owned());
        let mut c = Report::default();
        c.record(SecretKind::Jwt, || "c:1".to_owned());
        b.merge(c);
        assert_eq!(b.total, 3);
        assert_eq!(
            b.by_kind,
            counts(&[(SecretKind::Jwt, 2), (SecretKind::Email, 1)])
        );
        assert_eq!(b.places.len(), 3);
        assert!(!b.places_truncated);

        b.merge(a);
        assert_eq!(b.total, 3 + (MAX_PLACES + 5) as u64);
        assert_eq!(b.by_kind[&SecretKind::Email], 1 + (MAX_PLACES + 5) as u64);
        assert_eq!(b.places.len(), MAX_PLACES);
        assert!(b.places_truncated);
    }

    #[test]
    fn masked_spans_are_found() {
        let s = "a [REDACTED:jwt] b [REDACTED] c [REDACTED:Bad] d [REDACTED";
        assert_eq!(masked_spans(s), vec![(2, 16), (19, 29)]);
    }
}
