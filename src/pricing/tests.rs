#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use super::parse::parse_effective;
use super::*;

const WS: &str = "/ws/prices.toml";

/// The cost of one call from the built-in prices, the latest entries applying: what the
/// hard-coded table computed, for comparing with it.
fn cost(
    model: &str,
    input: Option<i64>,
    output: Option<i64>,
    cache_read: Option<i64>,
    cache_write: Option<i64>,
) -> Option<f64> {
    let call = Usage {
        model,
        input,
        output,
        cache_read,
        cache_write,
        ..Usage::default()
    };
    PriceTable::builtin().cost(&call, i64::MAX).usd()
}

fn ns(time: &str) -> i64 {
    parse_effective(time).unwrap_or_else(|e| panic!("{time}: {e}"))
}

/// A self-contained file, as a workspace's.
fn own(text: &str) -> PriceTable {
    PriceTable::parse(text, Origin::Workspace(PathBuf::from(WS))).unwrap_or_else(|e| panic!("{e}"))
}

fn own_err(text: &str) -> PriceError {
    match PriceTable::parse(text, Origin::Workspace(PathBuf::from(WS))) {
        Ok(_) => panic!("expected the file to be refused"),
        Err(e) => e,
    }
}

/// A workspace file over the built-in prices.
fn ws(text: &str) -> Result<PriceTable, PriceError> {
    PriceTable::workspace(text, Path::new(WS), PriceTable::builtin())
}

fn input(t: &PriceTable, model: &str, provider: Option<&str>, at: i64) -> Option<f64> {
    t.model(model, provider, at).map(|m| m.rates(0).input)
}

fn id(t: &PriceTable, model: &str, at: i64) -> Option<String> {
    t.model(model, None, at).map(|m| m.id())
}

fn call(model: &str, input: i64, output: i64) -> Usage<'_> {
    Usage {
        model,
        input: Some(input),
        output: Some(output),
        ..Usage::default()
    }
}

fn close(got: Option<f64>, want: f64) {
    let got = got.unwrap_or_else(|| panic!("no cost, wanted {want}"));
    assert!((got - want).abs() < 1e-12, "cost {got}, wanted {want}");
}

#[test]
fn builtin_file_loads() {
    let t = PriceTable::parse(BUILTIN_TEXT, Origin::Builtin).unwrap_or_else(|e| panic!("{e}"));
    assert!(t.models().len() >= 30, "{} models", t.models().len());
    assert_eq!(PriceTable::builtin().models().len(), t.models().len());
}

/// (name, input, output, cache read, cache write).
type OldPrice = (&'static str, f64, f64, Option<f64>, Option<f64>);

/// The hard-coded table the price file replaced.
const OLD_TABLE: &[OldPrice] = &[
    ("gpt-4o", 2.5, 10.0, Some(1.25), None),
    ("gpt-4o-mini", 0.15, 0.6, Some(0.075), None),
    ("gpt-4.1", 2.0, 8.0, Some(0.5), None),
    ("gpt-4.1-mini", 0.4, 1.6, Some(0.1), None),
    ("gpt-4.1-nano", 0.1, 0.4, Some(0.025), None),
    ("gpt-4-turbo", 10.0, 30.0, None, None),
    ("gpt-4", 30.0, 60.0, None, None),
    ("gpt-3.5-turbo", 0.5, 1.5, None, None),
    ("gpt-5", 1.25, 10.0, Some(0.125), None),
    ("gpt-5-mini", 0.25, 2.0, Some(0.025), None),
    ("gpt-5-nano", 0.05, 0.4, Some(0.005), None),
    ("o1", 15.0, 60.0, Some(7.5), None),
    ("o1-mini", 1.1, 4.4, Some(0.55), None),
    ("o3", 2.0, 8.0, Some(0.5), None),
    ("o3-mini", 1.1, 4.4, Some(0.55), None),
    ("o4-mini", 1.1, 4.4, Some(0.275), None),
    ("claude-3-5-sonnet", 3.0, 15.0, Some(0.3), Some(3.75)),
    ("claude-3-7-sonnet", 3.0, 15.0, Some(0.3), Some(3.75)),
    ("claude-sonnet-4", 3.0, 15.0, Some(0.3), Some(3.75)),
    ("claude-3-5-haiku", 0.8, 4.0, Some(0.08), Some(1.0)),
    ("claude-3-haiku", 0.25, 1.25, Some(0.03), Some(0.3)),
    ("claude-3-opus", 15.0, 75.0, Some(1.5), Some(18.75)),
    ("claude-opus-4", 15.0, 75.0, Some(1.5), Some(18.75)),
    ("gemini-1.5-flash", 0.075, 0.3, None, None),
    ("gemini-1.5-pro", 1.25, 5.0, None, None),
    ("gemini-2.0-flash", 0.1, 0.4, Some(0.025), None),
    ("gemini-2.5-flash", 0.3, 2.5, Some(0.075), None),
    ("gemini-2.5-pro", 1.25, 10.0, Some(0.31), None),
    ("mistral-large", 2.0, 6.0, None, None),
    ("mistral-small", 0.2, 0.6, None, None),
];

#[test]
fn every_model_of_the_old_table_keeps_its_price() {
    for &(name, input, output, cache_read, cache_write) in OLD_TABLE {
        let want = Rates {
            input,
            output,
            cache_read,
            cache_write,
            ..Rates::default()
        };
        let m = PriceTable::builtin()
            .model(name, None, i64::MAX)
            .unwrap_or_else(|| panic!("{name} has no price"));
        assert_eq!(m.entry.name(), Some(name));
        assert_eq!(*m.rates(1000), want, "{name}");
        // The built-in prices compute, to the bit, what the old table did.
        let (i, o, r, w) = (1000_i64, 200_i64, 300_i64, 50_i64);
        let old = ((i - r) as f64 * input
            + r as f64 * cache_read.unwrap_or(input)
            + w as f64 * cache_write.unwrap_or(input)
            + o as f64 * output)
            / 1e6;
        assert_eq!(
            cost(name, Some(i), Some(o), Some(r), Some(w)),
            Some(old),
            "{name}"
        );
    }
}

/// `../shared` (or `$SIGHTLINE_SHARED`), as the integration tests find it.
fn shared() -> PathBuf {
    std::env::var_os("SIGHTLINE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// agentgen's truth prices every call with its DEFAULT_PRICES: the built-in file must give
/// the same numbers, for the request and the response model names and every provider
/// spelling agentgen writes, at the time its data starts.
#[test]
fn agentgen_default_prices_are_the_builtin_ones() {
    let path = shared().join("agentgen/agentgen.py");
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = regex::Regex::new(r#"DEFAULT_START = "([^"]+)""#)
        .unwrap()
        .captures(&src)
        .expect("DEFAULT_START")[1]
        .to_owned();
    let at = ns(&start);
    let from = src.find("DEFAULT_PRICES").expect("DEFAULT_PRICES");
    let block = &src[from..];
    let block = &block[..block.find("\n}").expect("end of DEFAULT_PRICES")];
    let entry =
        regex::Regex::new(r#""([^"]+)": \{"input": ([0-9.]+), "output": ([0-9.]+)\}"#).unwrap();
    let t = PriceTable::builtin();
    let mut prices = Vec::new();
    for c in entry.captures_iter(block) {
        let name = c[1].to_owned();
        let (p_in, p_out): (f64, f64) = (c[2].parse().unwrap(), c[3].parse().unwrap());
        // agentgen's largest prompt (context capped at 120000, plus up to 39 tokens).
        let (n_in, n_out) = (120_039_i64, 4096_i64);
        let m = t
            .model(&name, None, at)
            .unwrap_or_else(|| panic!("{name} has no price"));
        assert_eq!(m.entry.name(), Some(name.as_str()));
        assert_eq!(
            (m.rates(n_in).input, m.rates(n_in).output),
            (p_in, p_out),
            "{name}"
        );
        let want = (n_in as f64 * p_in + n_out as f64 * p_out) / 1e6;
        assert_eq!(
            t.cost(&call(&name, n_in, n_out), at).usd(),
            Some(want),
            "{name}"
        );
        prices.push(name);
    }
    assert_eq!(prices.len(), 6, "DEFAULT_PRICES entries found: {prices:?}");

    let spec = regex::Regex::new(
        r#"ModelSpec\("([^"]+)", "([^"]+)", "([^"]+)", [^,]+, [^,]+, [^,]+, "([^"]+)", "([^"]+)"\)"#,
    )
    .unwrap();
    let mut models = 0;
    for c in spec.captures_iter(&src) {
        let (name, response) = (&c[1], &c[3]);
        assert!(
            prices.iter().any(|p| p == name),
            "{name} is not in DEFAULT_PRICES"
        );
        let want = id(t, name, at);
        for provider in [&c[2], &c[4], &c[5]] {
            for model in [name, response] {
                let got = t.model(model, Some(provider), at).map(|m| m.id());
                assert_eq!(got, want, "{model} from {provider}");
            }
        }
        models += 1;
    }
    assert_eq!(models, 6);
}

#[test]
fn names_cover_dated_and_prefixed_variants() {
    let t = PriceTable::builtin();
    let at = i64::MAX;
    assert_eq!(input(t, "gpt-4o-mini", None, at), Some(0.15));
    assert_eq!(input(t, "gpt-4o-2024-08-06", None, at), Some(2.5));
    assert_eq!(input(t, "gpt-4o-mini-2024-07-18", None, at), Some(0.15));
    assert_eq!(input(t, "openai/gpt-4o", None, at), Some(2.5));
    assert_eq!(input(t, " GPT-4o ", None, at), Some(2.5));
    assert_eq!(input(t, "gpt-4.1-mini", None, at), Some(0.4));
    assert_eq!(input(t, "gemini-1.5-flash-002", None, at), Some(0.075));
    assert_eq!(input(t, "models/gemini-1.5-pro-002", None, at), Some(1.25));
    assert_eq!(input(t, "gemini-1.5-pro@002", None, at), Some(1.25));
    assert_eq!(
        input(t, "anthropic.claude-3-5-sonnet-20240620-v1:0", None, at),
        Some(3.0)
    );
    assert_eq!(input(t, "claude-opus-4-1-20250805", None, at), Some(15.0));
    assert_eq!(input(t, "claude-opus-4-5-20251101", None, at), Some(5.0));
    assert_eq!(input(t, "o1-mini", None, at), Some(1.1));
    assert_eq!(input(t, "gpt-4o4", None, at), None);
    assert_eq!(input(t, "llama-3-70b", None, at), None);
    assert_eq!(
        id(t, "gpt-4o-2024-08-06", 0),
        Some("builtin:gpt-4o".to_owned())
    );

    let t = own(r#"
[[model]]
name = "m"
input = 1
output = 1

[[model]]
name = "m-x"
input = 2
output = 2
"#);
    assert_eq!(input(&t, "m-x", None, 0), Some(2.0));
    assert_eq!(input(&t, "m-x-2025", None, 0), Some(2.0));
    assert_eq!(input(&t, "m-y", None, 0), Some(1.0));
    assert_eq!(input(&t, "m@1", None, 0), Some(1.0));
    assert_eq!(input(&t, "mx", None, 0), None);
}

#[test]
fn a_provider_restricts_an_entry() {
    let t = own(r#"
[[model]]
name = "m"
provider = "openai"
input = 1
output = 1

[[model]]
name = "m"
provider = "gcp.gemini"
input = 2
output = 2

[[model]]
name = "m"
input = 3
output = 3

[[model]]
name = "only-openai"
provider = "OpenAI"
input = 4
output = 4
"#);
    assert_eq!(input(&t, "m", Some("openai"), 0), Some(1.0));
    assert_eq!(input(&t, "m", Some("openai.responses"), 0), Some(1.0));
    assert_eq!(input(&t, "m", Some("vertexai"), 0), Some(2.0));
    assert_eq!(input(&t, "m", Some("google"), 0), Some(2.0));
    assert_eq!(input(&t, "m", Some("anthropic"), 0), Some(3.0));
    // A call that does not say who served it: the entry for any provider fits it best.
    assert_eq!(input(&t, "m", None, 0), Some(3.0));
    assert_eq!(input(&t, "only-openai", Some("openai"), 0), Some(4.0));
    assert_eq!(input(&t, "only-openai", None, 0), Some(4.0));
    assert_eq!(input(&t, "only-openai", Some("anthropic"), 0), None);
    let m = t.model("m", Some("gcp.gemini"), 0).unwrap();
    assert_eq!(m.id(), "workspace:google/m");
    assert_eq!(m.entry.provider(), Some("google"));
}

#[test]
fn a_regex_prices_what_no_name_matches() {
    let t = own(r#"
[[model]]
match = "llama-?3.*"
input = 0.5
output = 0.5

[[model]]
match = "llama.*"
input = 9
output = 9

[[model]]
name = "llama-3-70b-special"
input = 7
output = 7
"#);
    assert_eq!(input(&t, "llama3-8b", None, 0), Some(0.5));
    assert_eq!(input(&t, "meta/Llama-3.1-70B", None, 0), Some(0.5));
    assert_eq!(input(&t, "llama-2-13b", None, 0), Some(9.0));
    assert_eq!(input(&t, "llama-3-70b-special", None, 0), Some(7.0));
    assert_eq!(input(&t, "llama-3-70b-special-v2", None, 0), Some(7.0));
    // The regex must match the whole name.
    assert_eq!(input(&t, "my-llama3", None, 0), None);
    assert_eq!(
        id(&t, "llama3-8b", 0),
        Some("workspace:llama-?3.*".to_owned())
    );
}

#[test]
fn effective_from_picks_the_price_in_force_at_the_call() {
    let t = own(r#"
[[model]]
name = "m"
input = 5
output = 15

[[model]]
name = "m"
effective_from = "2024-08-06"
input = 2.5
output = 10

[[model]]
name = "m"
effective_from = 2025-01-01T00:00:00+01:00
input = 1
output = 1

[[model]]
name = "later"
effective_from = "2030-01-01"
input = 1
output = 1
"#);
    let before = ns("2024-08-05T23:59:59Z");
    assert_eq!(input(&t, "m", None, before), Some(5.0));
    assert_eq!(id(&t, "m", before), Some("workspace:m".to_owned()));
    assert_eq!(input(&t, "m", None, ns("2024-08-06")), Some(2.5));
    assert_eq!(
        id(&t, "m", ns("2024-08-06")),
        Some("workspace:m@2024-08-06".to_owned())
    );
    assert_eq!(input(&t, "m", None, ns("2024-12-31T22:59:59Z")), Some(2.5));
    assert_eq!(input(&t, "m", None, ns("2024-12-31T23:00:00Z")), Some(1.0));
    assert_eq!(
        id(&t, "m", i64::MAX),
        Some("workspace:m@2025-01-01T00:00:00+01:00".to_owned())
    );
    assert_eq!(
        input(&t, "later", None, ns("2029-12-31T23:59:59.999999999Z")),
        None
    );
    assert_eq!(input(&t, "later", None, ns("2030-01-01")), Some(1.0));

    // The built-in example: o3's price cut of 2025-06-10.
    let b = PriceTable::builtin();
    let cut = ns("2025-06-10");
    assert_eq!(input(b, "o3-2025-04-16", None, cut - 1), Some(10.0));
    assert_eq!(id(b, "o3", cut - 1), Some("builtin:o3".to_owned()));
    assert_eq!(input(b, "o3", None, cut), Some(2.0));
    assert_eq!(id(b, "o3", cut), Some("builtin:o3@2025-06-10".to_owned()));
    assert_eq!(input(b, "o3-mini", None, 0), Some(1.1));
    close(
        b.cost(&call("o3", 1_000_000, 1_000_000), cut - 1).usd(),
        50.0,
    );
}

#[test]
fn a_tier_prices_the_whole_call_by_its_prompt_size() {
    let t = own(r#"
[[model]]
name = "g"
input = 1.25
output = 5
tiers = [{ above = 128000, input = 2.5, output = 10 }, { above = 1000000, input = 5, output = 20 }]

[[model]]
name = "h"
input = 1
output = 1

[[model.tiers]]
above = 10
input = 2
output = 2
"#);
    close(
        t.cost(&call("g", 128_000, 1000), 0).usd(),
        (128_000.0 * 1.25 + 5000.0) / 1e6,
    );
    close(
        t.cost(&call("g", 128_001, 1000), 0).usd(),
        (128_001.0 * 2.5 + 10_000.0) / 1e6,
    );
    close(
        t.cost(&call("g", 1_000_001, 0), 0).usd(),
        1_000_001.0 * 5.0 / 1e6,
    );
    // Cache writes are prompt tokens too.
    let written = Usage {
        cache_write: Some(2),
        ..call("g", 127_999, 1000)
    };
    close(
        t.cost(&written, 0).usd(),
        (127_999.0 * 2.5 + 2.0 * 2.5 + 10_000.0) / 1e6,
    );
    let h = t.model("h", None, 0).unwrap();
    assert_eq!((h.rates(10).input, h.rates(11).input), (1.0, 2.0));

    let pro = PriceTable::builtin()
        .model("gemini-1.5-pro-002", None, 0)
        .unwrap();
    assert_eq!(
        (pro.rates(128_000).input, pro.rates(128_000).output),
        (1.25, 5.0)
    );
    assert_eq!(
        (pro.rates(128_001).input, pro.rates(128_001).output),
        (2.5, 10.0)
    );
}

#[test]
fn as_prices_a_model_like_another_at_the_same_time() {
    let t = ws(r#"
[[model]]
name = "acme-ft"
as = "gpt-4o-mini"

[[model]]
name = "llama3.1:8b"
input = 0
output = 0
"#)
    .unwrap_or_else(|e| panic!("{e}"));
    let m = t.model("acme-ft-v2", None, 0).unwrap();
    assert!(m.is_estimate());
    assert_eq!(m.id(), "workspace:acme-ft>builtin:gpt-4o-mini");
    assert_eq!(m.rates(0).input, 0.15);
    match t.cost(&call("acme-ft", 1000, 100), 0) {
        Priced::Computed { usd, entry_id } => {
            close(Some(usd), (1000.0 * 0.15 + 100.0 * 0.6) / 1e6);
            assert_eq!(entry_id, "workspace:acme-ft>builtin:gpt-4o-mini");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        t.cost(&call("llama3.1:8b", 1000, 100), 0),
        Priced::Computed {
            usd: 0.0,
            entry_id: "workspace:llama3.1:8b".to_owned()
        }
    );

    let t = own(r#"
[[model]]
name = "t"
input = 1
output = 1

[[model]]
name = "t"
effective_from = "2024-01-01"
input = 2
output = 2

[[model]]
name = "a"
as = "t"

[[model]]
name = "b"
as = "a"
"#);
    assert_eq!(input(&t, "a", None, ns("2023-06-01")), Some(1.0));
    assert_eq!(input(&t, "a", None, ns("2024-06-01")), Some(2.0));
    assert_eq!(
        id(&t, "a", ns("2024-06-01")),
        Some("workspace:a>workspace:t@2024-01-01".to_owned())
    );
    assert_eq!(id(&t, "b", 0), Some("workspace:b>workspace:t".to_owned()));
}

#[test]
fn an_as_loop_is_refused() {
    let e = own_err(
        r#"[[model]]
name = "a"
as = "b"

[[model]]
name = "b"
as = "a-x"
"#,
    );
    assert_eq!(
        e.problems,
        vec![PriceProblem {
            file: WS.to_owned(),
            line: Some(3),
            entry: Some(EntryAt {
                kind: EntryKind::Model,
                number: 1,
                name: Some("a".to_owned()),
            }),
            field: Some("as".to_owned()),
            kind: ProblemKind::Cycle(vec![
                "workspace:a".to_owned(),
                "workspace:b".to_owned(),
                "workspace:a".to_owned(),
            ]),
        }]
    );
    assert_eq!(
        e.to_string(),
        "/ws/prices.toml:3: [[model]] #1 \"a\", field `as`: `as` loops: \
         workspace:a -> workspace:b -> workspace:a"
    );
    let e = own_err("[[model]]\nname = \"s\"\nas = \"s\"\n");
    assert!(matches!(&e.problems[0].kind, ProblemKind::Cycle(ids) if ids.len() == 2));
}

#[test]
fn an_as_naming_no_priced_model_is_refused() {
    let e = ws("[[model]]\nname = \"x\"\nas = \"no-such-model\"\n").unwrap_err();
    let p = &e.problems[0];
    assert_eq!(
        p.kind,
        ProblemKind::UnknownTarget("no-such-model".to_owned())
    );
    assert_eq!((p.line, p.field.as_deref()), (Some(3), Some("as")));
    assert!(
        e.to_string()
            .starts_with("/ws/prices.toml:3: [[model]] #1 \"x\", field `as`")
    );
    // A built-in model is a target for a workspace file, not for a file on its own.
    let text = "[[model]]\nname = \"x\"\nas = \"gpt-4o\"\n";
    assert!(ws(text).is_ok());
    let e = own_err(text);
    assert_eq!(
        e.problems[0].kind,
        ProblemKind::UnknownTarget("gpt-4o".to_owned())
    );
}

#[test]
fn tools_have_a_price_per_call() {
    let t = own(r#"
[[tool]]
name = "web_search"
per_call = 0.01

[[tool]]
name = "web_search"
effective_from = "2025-01-01"
per_call = 0.025

[[tool]]
match = "mcp__.*"
per_call = 0
"#);
    let tool = |name: &str, at: i64| t.tool(name, at).map(|m| (m.per_call(), m.id().to_owned()));
    assert_eq!(
        tool("web_search", ns("2024-06-01")),
        Some((0.01, "workspace:tool:web_search".to_owned()))
    );
    assert_eq!(
        tool("Web_Search", ns("2025-02-01")),
        Some((0.025, "workspace:tool:web_search@2025-01-01".to_owned()))
    );
    assert_eq!(
        tool("mcp__github__search", 0),
        Some((0.0, "workspace:tool:mcp__.*".to_owned()))
    );
    assert_eq!(tool("calculator", 0), None);
}

#[test]
fn a_problem_names_file_line_entry_and_field() {
    let e = own_err(
        "[[model]]\nname = \"ok\"\ninput = 1\noutput = 1\n\n[[model]]\nname = \"bad\"\ninput = -1\noutput = 1\n",
    );
    assert_eq!(
        e.problems,
        vec![PriceProblem {
            file: WS.to_owned(),
            line: Some(8),
            entry: Some(EntryAt {
                kind: EntryKind::Model,
                number: 2,
                name: Some("bad".to_owned()),
            }),
            field: Some("input".to_owned()),
            kind: ProblemKind::BadPrice(-1.0),
        }]
    );
    assert_eq!(
        e.to_string(),
        "/ws/prices.toml:8: [[model]] #2 \"bad\", field `input`: -1 is not a price (USD, zero or more)"
    );
}

#[test]
fn a_toml_error_is_placed_in_its_entry() {
    // A misspelt field.
    let e = own_err(
        "[[model]]\nname = \"ok\"\ninput = 1\noutput = 1\n\n[[model]]\nname = \"bad\"\ninptu = 1\noutput = 1\n",
    );
    assert_eq!(e.problems.len(), 1);
    let p = &e.problems[0];
    assert_eq!((p.line, p.field.as_deref()), (Some(8), Some("inptu")));
    assert_eq!(
        p.entry,
        Some(EntryAt {
            kind: EntryKind::Model,
            number: 2,
            name: Some("bad".to_owned()),
        })
    );
    assert!(
        matches!(&p.kind, ProblemKind::Toml(m) if m.contains("unknown field `inptu`")),
        "{p}"
    );
    assert!(
        e.to_string()
            .starts_with("/ws/prices.toml:8: [[model]] #2 \"bad\", field `inptu`: "),
        "{e}"
    );

    // A wrong type, in a tool.
    let e = own_err("[[tool]]\nname = \"web_search\"\nper_call = \"cheap\"\n");
    let p = &e.problems[0];
    assert_eq!((p.line, p.field.as_deref()), (Some(3), Some("per_call")));
    assert_eq!(
        p.entry.as_ref().map(|a| (a.kind, a.number)),
        Some((EntryKind::Tool, 1))
    );

    // Outside any entry.
    let e = own_err("[[models]]\nname = \"x\"\n");
    let p = &e.problems[0];
    assert_eq!((p.line, p.entry.as_ref()), (Some(1), None));
    assert!(
        matches!(&p.kind, ProblemKind::Toml(m) if m.contains("models")),
        "{p}"
    );

    // Not TOML at all.
    let e = own_err("[[model]]\nname = \"x\"\ninput = 1.2.3\noutput = 1\n");
    assert_eq!(e.problems[0].line, Some(3));
}

#[test]
fn every_problem_of_a_file_is_reported() {
    let e = own_err(
        r#"[[model]]
match = "gpt-["
input = 1
output = 1

[[model]]
name = "d"
effective_from = "2024-02-30"
input = 1
output = 1

[[model]]
input = 1
output = 1

[[model]]
name = "t"
input = 1
output = 1
tiers = [{ above = 200000, input = 2, output = 2 }, { above = 128000, input = 3, output = 3 }]

[[model]]
name = "m"
input = 1

[[tool]]
name = "x"
per_call = -0.5
"#,
    );
    let places: Vec<_> = e
        .problems
        .iter()
        .map(|p| {
            let entry = p.entry.as_ref().unwrap();
            (p.line, entry.kind, entry.number, p.field.as_deref())
        })
        .collect();
    assert_eq!(
        places,
        vec![
            (Some(2), EntryKind::Model, 1, Some("match")),
            (Some(8), EntryKind::Model, 2, Some("effective_from")),
            (Some(13), EntryKind::Model, 3, Some("name")),
            (Some(20), EntryKind::Model, 4, Some("tiers[2].above")),
            (Some(23), EntryKind::Model, 5, Some("output")),
            (Some(28), EntryKind::Tool, 1, Some("per_call")),
        ]
    );
    let kinds: Vec<_> = e.problems.iter().map(|p| p.kind.clone()).collect();
    assert!(
        matches!(&kinds[0], ProblemKind::BadRegex(m) if m.contains("unclosed")),
        "{e}"
    );
    assert_eq!(
        kinds[1],
        ProblemKind::BadDate {
            value: "2024-02-30".to_owned(),
            why: "2024-02 has no day 30".to_owned()
        }
    );
    assert_eq!(kinds[2], ProblemKind::NoName);
    assert_eq!(
        kinds[3],
        ProblemKind::TiersNotAscending {
            previous: 200_000,
            above: 128_000
        }
    );
    assert_eq!(kinds[4], ProblemKind::Missing);
    assert_eq!(kinds[5], ProblemKind::BadPrice(-0.5));
}

#[test]
fn duplicates_and_prices_beside_as_are_refused() {
    let e = own_err(
        "[[model]]\nname = \"m\"\ninput = 1\noutput = 1\n\n[[model]]\nname = \"M\"\ninput = 2\noutput = 2\n",
    );
    assert_eq!(
        e.problems[0].kind,
        ProblemKind::Duplicate {
            kind: EntryKind::Model,
            number: 1
        }
    );
    assert_eq!(e.problems[0].line, Some(7));
    let e = own_err("[[model]]\nname = \"x\"\nas = \"y\"\ninput = 1\n");
    assert_eq!(e.problems[0].kind, ProblemKind::AsWithPrice);
    assert_eq!(e.problems[0].field.as_deref(), Some("input"));
    let e = own_err("[[model]]\nname = \"x\"\nmatch = \"x.*\"\ninput = 1\noutput = 1\n");
    assert_eq!(e.problems[0].kind, ProblemKind::NameAndMatch);
}

#[test]
fn workspace_entries_win_over_builtin_ones() {
    let t = ws(r#"
[[model]]
name = "gpt-4o"
input = 1
output = 2

[[model]]
name = "claude-3-haiku"
effective_from = "2025-01-01"
input = 0.1
output = 0.2
"#)
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(input(&t, "gpt-4o", None, 0), Some(1.0));
    assert_eq!(
        id(&t, "gpt-4o-2024-08-06", 0),
        Some("workspace:gpt-4o".to_owned())
    );
    // The longer, exact built-in name still beats the workspace's shorter one.
    assert_eq!(
        id(&t, "gpt-4o-mini", 0),
        Some("builtin:gpt-4o-mini".to_owned())
    );
    // Before a workspace entry is in force, the built-in price applies.
    assert_eq!(
        input(&t, "claude-3-haiku", None, ns("2024-06-01")),
        Some(0.25)
    );
    assert_eq!(
        input(&t, "claude-3-haiku", None, ns("2025-02-01")),
        Some(0.1)
    );
    close(t.cost(&call("gpt-4o", 1000, 1000), 0).usd(), 0.003);
}

#[test]
fn unknown_models_and_calls_without_tokens_have_no_cost() {
    let t = PriceTable::builtin();
    assert_eq!(t.cost(&call("llama-3-70b", 10, 10), 0), Priced::NoPrice);
    let no_tokens = Usage {
        model: "gpt-4o",
        ..Usage::default()
    };
    assert_eq!(t.cost(&no_tokens, 0), Priced::NoUsage);
    assert_eq!(cost("gpt-4o", None, None, None, None), None);
    assert_eq!(cost("llama-3-70b", Some(10), Some(10), None, None), None);
    close(
        cost("claude-3-5-sonnet", Some(1000), Some(100), None, None),
        0.0045,
    );
    close(
        cost("gpt-4o", Some(1000), Some(0), Some(1000), None),
        0.00125,
    );
    assert_eq!(
        t.cost(&call("gpt-4o", 1, 1), 0),
        Priced::Computed {
            usd: (2.5 + 10.0) / 1e6,
            entry_id: "builtin:gpt-4o".to_owned()
        }
    );
}

#[test]
fn reasoning_and_audio_are_billed_within_their_totals() {
    let t = own(r#"
[[model]]
name = "r"
input = 1
output = 10
cache_read = 0.5
reasoning = 20
audio_input = 100
audio_output = 200

[[model]]
name = "plain"
input = 1
output = 10
"#);
    let usage = |model| Usage {
        model,
        input: Some(1000),
        cache_read: Some(100),
        audio_input: Some(300),
        output: Some(500),
        reasoning: Some(200),
        audio_output: Some(100),
        ..Usage::default()
    };
    let want =
        (600.0 + 100.0 * 0.5 + 200.0 * 10.0 + 300.0 * 100.0 + 200.0 * 20.0 + 100.0 * 200.0) / 1e6;
    close(t.cost(&usage("r"), 0).usd(), want);
    // Without such rates the counts change nothing: cached tokens bill as input here.
    close(
        t.cost(&usage("plain"), 0).usd(),
        (1000.0 + 500.0 * 10.0) / 1e6,
    );
}

#[test]
fn dates_parse_as_utc_instants() {
    let day = crate::model::days_from_civil(2024, 10, 1) * 86_400 * 1_000_000_000;
    assert_eq!(parse_effective("2024-10-01"), Ok(day));
    assert_eq!(parse_effective("2024-10-01T00:00:00Z"), Ok(day));
    assert_eq!(parse_effective("2024-10-01 02:00:00+02:00"), Ok(day));
    assert_eq!(parse_effective("2024-09-30T22:00:00-02:00"), Ok(day));
    assert_eq!(
        parse_effective("2024-10-01T00:00:00.5Z"),
        Ok(day + 500_000_000)
    );
    assert_eq!(
        parse_effective("2024-10-01t00:00:00.1234567891z"),
        Ok(day + 123_456_789)
    );
    assert!(parse_effective("2024-02-29").is_ok());
    for bad in [
        "2024-13-01",
        "2024-02-30",
        "2023-02-29",
        "2024-10-1",
        "2024-10-01T10:00:00",
        "2024-10-01T25:00:00Z",
        "2024-10-01T10:00:00.Z",
        "2024-10-01T10:00:00+0200",
        "yesterday",
        "3000-01-01",
    ] {
        assert!(parse_effective(bad).is_err(), "{bad}");
    }
    let e = own_err(
        "[[model]]\nname = \"m\"\neffective_from = \"2024-10-01T10:00:00\"\ninput = 1\noutput = 1\n",
    );
    assert!(e.to_string().contains("needs a zone"), "{e}");
}
