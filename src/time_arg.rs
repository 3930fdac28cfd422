//! Times as users type them on a command line: RFC 3339 (`2024-06-01T12:00:00Z`), a date,
//! or a span back from now (`15m`, `2h`, `7d`, `90s`, `1w`).

use crate::error::{Error, Result};
use crate::ingest::timestamp::parse_time_str;

/// Parses `value` into Unix nanoseconds; `now_ns` anchors relative spans.
pub fn parse_time_arg(value: &str, now_ns: i64) -> Result<i64> {
    let v = value.trim();
    if let Some(d) = parse_duration_ns(v) {
        return Ok(now_ns.saturating_sub(d));
    }
    if v.eq_ignore_ascii_case("now") {
        return Ok(now_ns);
    }
    parse_time_str(v, 1970)
        .filter(|t| t.flags & crate::model::flags::TIME_NO_YEAR == 0)
        .map(|t| t.ns)
        .ok_or_else(|| Error::InvalidArgument {
            what: "time",
            value: value.to_owned(),
            why: "expected RFC 3339 (2024-06-01T12:00:00Z), a date, or a span like 15m, 2h, 7d"
                .to_owned(),
        })
}

/// `15m` -> nanoseconds. Units: ms, s, m, h, d, w. Whole numbers or decimals.
pub fn parse_duration_ns(v: &str) -> Option<i64> {
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let unit_ns: f64 = match unit.trim() {
        "ms" => 1e6,
        "s" | "sec" | "secs" => 1e9,
        "m" | "min" | "mins" => 60e9,
        "h" | "hr" | "hrs" => 3600e9,
        "d" | "day" | "days" => 86_400e9,
        "w" | "week" | "weeks" => 604_800e9,
        _ => return None,
    };
    let ns = n * unit_ns;
    (ns.is_finite() && ns < 9.2e18).then_some(ns as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute() {
        let now = 1_717_243_200_000_000_000;
        assert_eq!(parse_time_arg("15m", now).unwrap(), now - 900_000_000_000);
        assert_eq!(
            parse_time_arg("1.5h", now).unwrap(),
            now - 5_400_000_000_000
        );
        assert_eq!(
            parse_time_arg("2024-06-01T12:00:00Z", 0).unwrap(),
            1_717_243_200_000_000_000
        );
        assert!(parse_time_arg("yesterday-ish", now).is_err());
        assert!(parse_time_arg("15x", now).is_err());
    }
}
