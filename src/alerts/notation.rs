//! promtool's expanding series notation: `1+2x3` is `1 3 5 7`, `0x2` is `0 0 0`, `_` is a
//! missing sample, `_x3` three of them, `stale` a staleness marker.

use crate::promql::stale_nan;

/// One step of a series: a value, or nothing at that step.
pub type Step = Option<f64>;

/// Expands a `values:` string into one entry per interval step.
pub fn expand_values(text: &str) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    for tok in text.split_whitespace() {
        if tok.starts_with("{{") {
            return Err(format!(
                "{tok:?}: native histograms in series notation are not supported"
            ));
        }
        let (base, times) = match tok.rsplit_once('x') {
            // `0x1f` is not a hex number here: the part after x must be a count.
            Some((b, n))
                if !b.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() =>
            {
                let n: u64 = n
                    .parse()
                    .map_err(|_| format!("{tok:?}: bad repeat count"))?;
                (b, Some(n))
            }
            _ => (tok, None),
        };
        if base == "_" {
            for _ in 0..times.unwrap_or(1) {
                out.push(None);
            }
            continue;
        }
        let (start, incr) =
            split_increment(base).ok_or_else(|| format!("{tok:?}: cannot read this value"))?;
        match (times, incr) {
            (None, None) => out.push(Some(start)),
            (None, Some(_)) => {
                return Err(format!("{tok:?}: an increment needs a count (like 1+2x3)"));
            }
            (Some(n), None) => {
                for _ in 0..=n {
                    out.push(Some(start));
                }
            }
            (Some(n), Some(d)) => {
                let mut v = start;
                out.push(Some(v));
                for _ in 0..n {
                    v += d;
                    out.push(Some(v));
                }
            }
        }
        if out.len() > 10_000_000 {
            return Err("a series of more than 10,000,000 steps".into());
        }
    }
    Ok(out)
}

fn number(s: &str) -> Option<f64> {
    match s {
        "stale" => Some(stale_nan()),
        "Inf" | "+Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => {
            if s.starts_with("0x") || s.starts_with("0X") {
                return i64::from_str_radix(&s[2..], 16).ok().map(|v| v as f64);
            }
            s.parse().ok()
        }
    }
}

/// `a`, `a+b`, `a-b` (a and b may be signed, may have exponents).
fn split_increment(s: &str) -> Option<(f64, Option<f64>)> {
    if let Some(v) = number(s) {
        return Some((v, None));
    }
    let b = s.as_bytes();
    for i in 1..b.len() {
        if (b[i] == b'+' || b[i] == b'-') && !matches!(b[i - 1], b'e' | b'E') {
            let a = number(&s[..i])?;
            let d = number(&s[i + 1..])?;
            return Some((a, Some(if b[i] == b'-' { -d } else { d })));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::is_stale;

    #[test]
    fn expands() {
        assert_eq!(
            expand_values("1+1x2").unwrap(),
            vec![Some(1.0), Some(2.0), Some(3.0)]
        );
        assert_eq!(expand_values("1x2").unwrap(), vec![Some(1.0); 3]);
        assert_eq!(
            expand_values("5-2x2").unwrap(),
            vec![Some(5.0), Some(3.0), Some(1.0)]
        );
        assert_eq!(
            expand_values("-1+-1x1").unwrap(),
            vec![Some(-1.0), Some(-2.0)]
        );
        assert_eq!(
            expand_values("0 _ _x2 1e3").unwrap(),
            vec![Some(0.0), None, None, None, Some(1000.0)]
        );
        let s = expand_values("0 stale").unwrap();
        assert!(is_stale(s[1].unwrap()));
        assert!(expand_values("1+x").is_err());
        assert!(
            expand_values("{{sum:1}}")
                .unwrap_err()
                .contains("native histograms")
        );
    }
}
