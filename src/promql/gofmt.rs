//! Numbers the way Go prints them, so alert annotations read as they would on Prometheus.

/// Go's `%v` / `strconv.FormatFloat(v, 'g', -1, 64)`: shortest round-trip digits, exponent
/// form when the exponent is below -4 or reaches the precision (`1e+06`, `1.5e-05`, but
/// `100000` and `123456.789`).
pub fn format_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits and decimal exponent, from Rust's own `{:e}`.
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    // Go: %e when exp < -4 || exp >= eprec; for the shortest form eprec is 6, or the digit
    // count when that is larger and the number has no fraction digits.
    let nd = digits.len() as i32;
    let dp = exp + 1;
    let eprec = if 6 > nd && nd >= dp { nd } else { 6 };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Go's `%.Ng`: N significant digits, trailing zeros removed, exponent form when the
/// exponent is below -4 or at least N.
fn format_g_prec(v: f64, prec: usize) -> String {
    if !v.is_finite() || v == 0.0 {
        return format_g(v);
    }
    let e = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |m: &str| -> String {
        if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            m.to_string()
        }
    };
    if exp < -4 || exp >= prec as i32 {
        format!(
            "{}e{}{:02}",
            trim(mant),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{v:.decimals$}"))
    }
}

/// Go's `fmt.Sprintf` for one verb with a float or string argument: `%v`, `%s`, `%d`,
/// `%f`, `%.Nf`, `%e`, `%g`, `%x`, `%%`, with optional width. Returns None for verbs it
/// does not know.
pub fn sprintf(format: &str, args: &[FmtArg]) -> Option<String> {
    let mut out = String::new();
    let mut it = format.chars().peekable();
    let mut next_arg = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&p) = it.peek() {
            if p.is_ascii_digit() || p == '.' || p == '-' || p == '+' || p == ' ' || p == '0' {
                spec.push(p);
                it.next();
            } else {
                break;
            }
        }
        let verb = it.next()?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args.get(next_arg)?;
        next_arg += 1;
        let (width, prec) = match spec.split_once('.') {
            Some((w, p)) => (w.to_string(), p.parse::<usize>().ok()),
            None => (spec.clone(), None),
        };
        let left = width.starts_with('-');
        let zero = width.starts_with('0');
        let width: usize = width
            .trim_start_matches(['-', '+', ' ', '0'])
            .parse()
            .unwrap_or(0);
        let body = match (verb, arg) {
            ('v', FmtArg::Num(v)) | ('g', FmtArg::Num(v)) if prec.is_none() => format_g(*v),
            ('g', FmtArg::Num(v)) => format_g_prec(*v, prec.unwrap_or(6).max(1)),
            ('f', FmtArg::Num(v)) | ('F', FmtArg::Num(v)) => {
                if v.is_infinite() || v.is_nan() {
                    format_g(*v)
                } else {
                    format!("{:.*}", prec.unwrap_or(6), v)
                }
            }
            ('e', FmtArg::Num(v)) => {
                let s = format!("{:.*e}", prec.unwrap_or(6), v);
                match s.split_once('e') {
                    Some((m, e)) => {
                        let n: i32 = e.parse().unwrap_or(0);
                        format!("{m}e{}{:02}", if n < 0 { '-' } else { '+' }, n.abs())
                    }
                    None => s,
                }
            }
            ('d', FmtArg::Num(v)) => format!("{}", *v as i64),
            ('x', FmtArg::Num(v)) => format!("{:x}", *v as i64),
            ('s' | 'v' | 'q', FmtArg::Str(s)) => {
                if verb == 'q' {
                    format!("{s:?}")
                } else {
                    s.clone()
                }
            }
            ('s', FmtArg::Num(v)) => format!("%!s(float64={})", format_g(*v)),
            _ => return None,
        };
        let pad = width.saturating_sub(body.chars().count());
        if left {
            out.push_str(&body);
            out.push_str(&" ".repeat(pad));
        } else if zero && matches!(arg, FmtArg::Num(_)) {
            let (sign, digits) = match body.strip_prefix('-') {
                Some(d) => ("-", d.to_string()),
                None => ("", body.clone()),
            };
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(&digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&body);
        }
    }
    Some(out)
}

/// An argument of [`sprintf`].
#[derive(Debug, Clone)]
pub enum FmtArg {
    Num(f64),
    Str(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g() {
        assert_eq!(format_g(1.0), "1");
        assert_eq!(format_g(1e6), "1e+06");
        assert_eq!(format_g(100000.0), "100000");
        assert_eq!(format_g(1234567.0), "1.234567e+06");
        assert_eq!(format_g(1e21), "1e+21");
        assert_eq!(format_g(0.5), "0.5");
        assert_eq!(format_g(0.00001), "1e-05");
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(123456.789), "123456.789");
        assert_eq!(format_g(-2.5), "-2.5");
        assert_eq!(format_g(f64::INFINITY), "+Inf");
    }

    #[test]
    fn go_printf() {
        let n = |v| FmtArg::Num(v);
        assert_eq!(sprintf("%.2f", &[n(1.23456)]).unwrap(), "1.23");
        assert_eq!(sprintf("%.0f%%", &[n(99.6)]).unwrap(), "100%");
        assert_eq!(sprintf("%d items", &[n(7.0)]).unwrap(), "7 items");
        assert_eq!(sprintf("%5.1f|", &[n(2.0)]).unwrap(), "  2.0|");
        assert_eq!(sprintf("%s!", &[FmtArg::Str("a".into())]).unwrap(), "a!");
        assert_eq!(sprintf("%.4g", &[n(1.23456)]).unwrap(), "1.235");
        assert_eq!(sprintf("%.4g", &[n(123456.0)]).unwrap(), "1.235e+05");
        assert_eq!(sprintf("%.4g", &[n(0.5)]).unwrap(), "0.5");
        assert!(sprintf("%y", &[n(1.0)]).is_none());
    }
}
