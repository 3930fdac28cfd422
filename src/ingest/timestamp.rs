//! Time normalization: the many ways loggers write time, to UTC Unix nanoseconds.
//!
//! Hand-written rather than a general date library because this runs once per record on
//! ingest's hot path, and because log times come in shapes no single format string covers
//! (Go's `time.String()` with a zone name, Python's comma milliseconds, syslog without a year).
//! Numbers are read from their JSON text, so `1717243200.570041` keeps its microseconds
//! exactly instead of going through an `f64`.

use crate::model::{days_from_civil, flags};

/// A parsed time: Unix nanoseconds plus [`flags`] bits saying what was assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTime {
    pub ns: i64,
    pub flags: u32,
}

/// The unit of a bare epoch number, told apart by magnitude: seconds reach 1e11 only in the
/// year 5138, milliseconds 1e14 in 5138, and so on.
fn epoch_scale(abs_int_part: u128) -> i128 {
    if abs_int_part < 100_000_000_000 {
        1_000_000_000
    } else if abs_int_part < 100_000_000_000_000 {
        1_000_000
    } else if abs_int_part < 100_000_000_000_000_000 {
        1_000
    } else {
        1
    }
}

/// Parses a JSON number's text (`1717243200`, `1717243200.570041`, `1.7e9`) as an epoch time
/// in s / ms / µs / ns by magnitude.
pub fn parse_epoch_number(text: &str) -> Option<ParsedTime> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    if body.contains(['e', 'E']) {
        let v: f64 = t.parse().ok()?;
        if !v.is_finite() {
            return None;
        }
        let scale = epoch_scale(v.abs() as u128) as f64;
        let ns = v * scale;
        if ns.abs() > 9.2e18 {
            return None;
        }
        return Some(ParsedTime {
            ns: ns as i64,
            flags: 0,
        });
    }
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int_part.is_empty() || int_part.len() > 20 || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int: u128 = int_part.parse().ok()?;
    let scale = epoch_scale(int);
    let mut ns: i128 = int as i128 * scale;
    // Fraction digits scaled into the unit: only as many digits as nanoseconds can hold.
    let mut unit = scale;
    for b in frac_part.bytes() {
        unit /= 10;
        if unit == 0 {
            break;
        }
        ns += i128::from(b - b'0') * unit;
    }
    if neg {
        ns = -ns;
    }
    Some(ParsedTime {
        ns: i64::try_from(ns).ok()?,
        flags: 0,
    })
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.i.checked_add(n)?;
        let chunk = self.s.get(self.i..end)?;
        let mut v = 0u32;
        for &b in chunk {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
        }
        self.i = end;
        Some(v)
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
    fn rest(&self) -> &[u8] {
        self.s.get(self.i..).unwrap_or_default()
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

fn month_from_name(s: &[u8]) -> Option<u32> {
    let head = s.get(..3)?;
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(head))
        .map(|i| i as u32 + 1)
}

/// Parses `HH:MM[:SS[.frac]]`, returning nanoseconds since midnight.
fn time_of_day(c: &mut Cursor<'_>) -> Option<i64> {
    let h = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let mi = c.digits(2)?;
    let mut s = 0;
    let mut frac_ns = 0i64;
    if c.eat(b':') {
        s = c.digits(2)?;
        if matches!(c.peek(), Some(b'.' | b',')) {
            c.i += 1;
            let mut unit = 100_000_000i64;
            let start = c.i;
            while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
                frac_ns += i64::from(b - b'0') * unit;
                unit /= 10;
                c.i += 1;
            }
            if c.i == start {
                return None;
            }
        }
    }
    // 60 allows a leap second; it folds into the next minute.
    if h > 24 || mi > 59 || s > 60 {
        return None;
    }
    Some((i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * 1_000_000_000 + frac_ns)
}

/// Parses a UTC offset at the cursor: `Z`, `z`, `+HH:MM`, `+HHMM`, `+HH`, `UTC`, `GMT`.
/// Returns `Some(seconds east)` or `None` when there is no offset.
fn offset(c: &mut Cursor<'_>) -> Option<i64> {
    match c.peek()? {
        b'Z' | b'z' => {
            c.i += 1;
            Some(0)
        }
        sign @ (b'+' | b'-') => {
            let save = c.i;
            c.i += 1;
            let Some(h) = c.digits(2) else {
                c.i = save;
                return None;
            };
            c.eat(b':');
            let m = c.digits(2).unwrap_or(0);
            let secs = i64::from(h) * 3600 + i64::from(m) * 60;
            Some(if sign == b'-' { -secs } else { secs })
        }
        b'U' | b'G' => {
            let r = c.rest();
            if r.starts_with(b"UTC") || r.starts_with(b"GMT") {
                c.i += 3;
                Some(0)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn finish(days: i64, tod_ns: i64, off: Option<i64>, mut flags: u32) -> Option<ParsedTime> {
    let off_s = match off {
        Some(o) => o,
        None => {
            flags |= flags::TIME_ASSUMED_UTC;
            0
        }
    };
    let ns = i128::from(days) * 86_400_000_000_000 + i128::from(tod_ns)
        - i128::from(off_s) * 1_000_000_000;
    Some(ParsedTime {
        ns: i64::try_from(ns).ok()?,
        flags,
    })
}

/// ISO 8601 / RFC 3339 and their relatives: `2024-06-01T12:00:00Z`, `2024-06-01 12:00:00,123`,
/// `2017-04-20T04:24:47.0251719Z`, `2014-03-10 19:57:38.562264131 -0400 EDT` (Go's
/// `time.String()`), `2024-06-01` alone.
fn parse_iso(s: &[u8]) -> Option<ParsedTime> {
    let mut c = Cursor { s, i: 0 };
    let y = c.digits(4)?;
    let sep = c.peek()?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    c.i += 1;
    let m = c.digits(2)?;
    if !c.eat(sep) {
        return None;
    }
    let d = c.digits(2)?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d);
    if c.peek().is_none() {
        return finish(days, 0, None, 0);
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ') || c.eat(b'_')) {
        return None;
    }
    let tod = time_of_day(&mut c)?;
    let save = c.i;
    c.skip_spaces();
    let off = offset(&mut c);
    if off.is_none() {
        c.i = save;
    }
    // Whatever follows (a zone name like `EDT`, Go's monotonic `m=+0.001`) is informational;
    // but letters glued to the time mean this was not a time at all.
    match c.peek() {
        None | Some(b' ') => {}
        _ => return None,
    }
    finish(days, tod, off, 0)
}

/// `Feb 20 11:28:15.096` (syslog, no year) and `Tue, 20 Feb 2024 11:28:15 +0000` (RFC 2822).
fn parse_named_month(s: &[u8], year_hint: i64) -> Option<ParsedTime> {
    let mut c = Cursor { s, i: 0 };
    // Optional weekday: `Tue, ` or `Tue `.
    if s.len() > 4
        && s[..3].iter().all(u8::is_ascii_alphabetic)
        && matches!(s[3], b',' | b' ')
        && (month_from_name(s).is_none() || s[3] == b',')
    {
        c.i = 4;
        c.skip_spaces();
    }
    let (day, month, year) = if let Some(mo) = month_from_name(c.rest()) {
        // `Feb 20 11:28:15`, `Feb  2 11:28:15`, `Feb 20 2024 11:28:15`
        c.i += 3;
        c.skip_spaces();
        let d = c.digits(2).or_else(|| c.digits(1))?;
        c.skip_spaces();
        let save = c.i;
        let y = match c.digits(4) {
            Some(y) if c.peek() == Some(b' ') => {
                c.skip_spaces();
                Some(i64::from(y))
            }
            _ => {
                c.i = save;
                None
            }
        };
        (d, mo, y)
    } else {
        // `20 Feb 2024 11:28:15 +0000`
        let d = c.digits(2).or_else(|| c.digits(1))?;
        c.skip_spaces();
        let mo = month_from_name(c.rest())?;
        c.i += 3;
        c.skip_spaces();
        let y = c.digits(4)?;
        c.skip_spaces();
        (d, mo, Some(i64::from(y)))
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    let tod = time_of_day(&mut c)?;
    c.skip_spaces();
    let off = offset(&mut c);
    let mut f = 0;
    let y = match year {
        Some(y) => y,
        None => {
            f |= flags::TIME_NO_YEAR;
            year_hint
        }
    };
    finish(days_from_civil(y, month, day), tod, off, f)
}

/// Parses a time written as a string. `year_hint` fills in a missing year.
pub fn parse_time_str(s: &str, year_hint: i64) -> Option<ParsedTime> {
    let t = s.trim();
    let b = t.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_digit() {
        if b.len() >= 10 && matches!(b.get(4), Some(b'-' | b'/')) {
            return parse_iso(b);
        }
        if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
            return parse_epoch_number(t);
        }
        return parse_named_month(b, year_hint);
    }
    if first.is_ascii_alphabetic() {
        return parse_named_month(b, year_hint);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> i64 {
        parse_time_str(s, 2024).map(|t| t.ns).unwrap_or(i64::MIN)
    }

    #[test]
    fn iso_variants() {
        assert_eq!(ns("2024-06-01T12:00:00Z"), 1_717_243_200_000_000_000);
        assert_eq!(ns("2024-06-01T14:00:00+02:00"), 1_717_243_200_000_000_000);
        assert_eq!(ns("2024-06-01T14:00:00+0200"), 1_717_243_200_000_000_000);
        assert_eq!(ns("2024-06-01T12:00:00.570041Z"), 1_717_243_200_570_041_000);
        assert_eq!(
            ns("2017-04-20T04:24:47.0251719Z") % 1_000_000_000,
            25_171_900
        );
        assert_eq!(
            ns("2014-03-10 19:57:38.562264131 -0400 EDT"),
            ns("2014-03-10T23:57:38.562264131Z")
        );
        assert_eq!(
            ns("2026-11-20 21:53:26,176"),
            ns("2026-11-20T21:53:26.176Z")
        );
        let naive = parse_time_str("2024-06-01T12:00:01.308667", 0).unwrap();
        assert_eq!(naive.flags, flags::TIME_ASSUMED_UTC);
        assert_eq!(naive.ns, 1_717_243_201_308_667_000);
        assert_eq!(
            ns("2022-11-08T15:28:26.000000000-05:00"),
            ns("2022-11-08T20:28:26Z")
        );
        assert_eq!(ns("2024-06-01 12:00:00+00:00"), 1_717_243_200_000_000_000);
    }

    #[test]
    fn not_times() {
        assert!(parse_time_str("fake time", 2024).is_none());
        assert!(parse_time_str("2024-13-01T00:00:00Z", 2024).is_none());
        assert!(parse_time_str("2024-06-01Tnoon", 2024).is_none());
        assert!(parse_time_str("", 2024).is_none());
        assert!(parse_time_str("hello world", 2024).is_none());
    }

    #[test]
    fn syslog_and_rfc2822() {
        let t = parse_time_str("Feb 20 11:28:15.096", 2024).unwrap();
        assert_eq!(t.flags & flags::TIME_NO_YEAR, flags::TIME_NO_YEAR);
        assert_eq!(t.ns, ns("2024-02-20T11:28:15.096Z"));
        assert_eq!(
            ns("Tue, 20 Feb 2024 11:28:15 +0000"),
            ns("2024-02-20T11:28:15Z")
        );
    }

    #[test]
    fn epochs_by_magnitude() {
        let s = 1_717_243_200_000_000_000i64;
        assert_eq!(parse_epoch_number("1717243200").unwrap().ns, s);
        assert_eq!(parse_epoch_number("1717243200000").unwrap().ns, s);
        assert_eq!(parse_epoch_number("1717243200000000").unwrap().ns, s);
        assert_eq!(parse_epoch_number("1717243200000000000").unwrap().ns, s);
        assert_eq!(
            parse_epoch_number("1717243200.570041").unwrap().ns,
            s + 570_041_000
        );
        assert_eq!(
            parse_epoch_number("1717243200570.5").unwrap().ns,
            s + 570_500_000
        );
        assert_eq!(parse_epoch_number("1.7172432e9").unwrap().ns, s);
        assert!(parse_epoch_number("abc").is_none());
    }
}
