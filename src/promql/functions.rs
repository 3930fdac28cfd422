//! PromQL functions, as Prometheus 2.x computes them.

use promql_parser::label::MatchOp;
use promql_parser::parser::{Call, Expr};

use super::eval::{Evaluator, Range, type_error, valid_label_name};
use super::{Labels, NAME, PromqlError, Sample, Value};

type R<T> = Result<T, PromqlError>;

pub(crate) fn call(ev: &Evaluator<'_>, c: &Call, t: i64) -> R<Value> {
    let name = c.func.name;
    let args: Vec<&Expr> = c.args.args.iter().map(|b| b.as_ref()).collect();
    let arg = |i: usize| -> R<&Expr> {
        args.get(i)
            .copied()
            .ok_or_else(|| PromqlError::Eval(format!("{name}() is missing argument {}", i + 1)))
    };
    let vector_arg =
        |i: usize| -> R<Vec<Sample>> { ev.eval_vector(arg(i)?, t, &format!("{name}()")) };
    let scalar_arg = |i: usize| -> R<f64> { ev.eval_scalar(arg(i)?, t, &format!("{name}()")) };
    let string_arg = |i: usize| -> R<String> {
        match ev.eval(arg(i)?, t)? {
            Value::String(s) => Ok(s),
            other => Err(type_error(&format!("{name}()"), &other)),
        }
    };

    match name {
        "time" => Ok(Value::Scalar(t as f64 / 1000.0)),
        "vector" => Ok(Value::Vector(vec![Sample {
            labels: Labels::default(),
            value: scalar_arg(0)?,
        }])),
        "scalar" => {
            let v = vector_arg(0)?;
            Ok(Value::Scalar(if v.len() == 1 {
                v[0].value
            } else {
                f64::NAN
            }))
        }
        "pi" => Ok(Value::Scalar(std::f64::consts::PI)),

        // ---- range vector -> instant vector ----
        "rate" | "increase" | "delta" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, false, |s, r| {
                extrapolated(s, r, name != "delta", name == "rate")
            }))
        }
        "irate" | "idelta" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, false, |s, _| instant_delta(s, name == "irate")))
        }
        "deriv" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, false, |s, _| {
                (s.len() >= 2).then(|| linear_regression(s, s[0].0).0)
            }))
        }
        "predict_linear" => {
            let r = ev.eval_range(arg(0)?, t)?;
            let d = scalar_arg(1)?;
            Ok(over(r, false, |s, _| {
                (s.len() >= 2).then(|| {
                    let (slope, intercept) = linear_regression(s, t);
                    slope * d + intercept
                })
            }))
        }
        "changes" | "resets" => {
            let r = ev.eval_range(arg(0)?, t)?;
            let resets = name == "resets";
            Ok(over(r, false, |s, _| {
                let mut n = 0.0;
                for w in s.windows(2) {
                    let (a, b) = (w[0].1, w[1].1);
                    let hit = if resets {
                        b < a
                    } else {
                        !(a == b || (a.is_nan() && b.is_nan()))
                    };
                    if hit {
                        n += 1.0;
                    }
                }
                Some(n)
            }))
        }
        "avg_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, false, |s, _| {
                let (mut mean, mut count) = (0.0f64, 0.0f64);
                for &(_, v) in s {
                    count += 1.0;
                    if mean.is_infinite() {
                        if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                            continue;
                        }
                        if !v.is_infinite() && !v.is_nan() {
                            continue;
                        }
                    }
                    mean += v / count - mean / count;
                }
                Some(mean)
            }))
        }
        "sum_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, false, |s, _| Some(s.iter().map(|p| p.1).sum())))
        }
        "count_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, false, |s, _| Some(s.len() as f64)))
        }
        "min_over_time" | "max_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            let max = name == "max_over_time";
            Ok(over(r, false, |s, _| {
                let mut m = s[0].1;
                for &(_, v) in s {
                    if (max && (v > m || m.is_nan())) || (!max && (v < m || m.is_nan())) {
                        m = v;
                    }
                }
                Some(m)
            }))
        }
        "last_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, true, |s, _| s.last().map(|p| p.1)))
        }
        "present_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            Ok(over(r, false, |_, _| Some(1.0)))
        }
        "stddev_over_time" | "stdvar_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            let sd = name == "stddev_over_time";
            Ok(over(r, false, |s, _| {
                let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
                for &(_, v) in s {
                    n += 1.0;
                    let d = v - mean;
                    mean += d / n;
                    m2 += d * (v - mean);
                }
                let var = m2 / n;
                Some(if sd { var.sqrt() } else { var })
            }))
        }
        "quantile_over_time" => {
            let q = scalar_arg(0)?;
            let r = ev.eval_range(arg(1)?, t)?;
            Ok(over(r, false, |s, _| {
                Some(quantile(q, s.iter().map(|p| p.1).collect()))
            }))
        }
        "absent_over_time" => {
            let r = ev.eval_range(arg(0)?, t)?;
            if !r.series.is_empty() {
                return Ok(Value::Vector(Vec::new()));
            }
            Ok(Value::Vector(vec![Sample {
                labels: absent_labels(arg(0)?),
                value: 1.0,
            }]))
        }
        "absent" => {
            let v = vector_arg(0)?;
            if !v.is_empty() {
                return Ok(Value::Vector(Vec::new()));
            }
            Ok(Value::Vector(vec![Sample {
                labels: absent_labels(arg(0)?),
                value: 1.0,
            }]))
        }

        // ---- instant vector -> instant vector ----
        "abs" | "ceil" | "floor" | "exp" | "ln" | "log2" | "log10" | "sqrt" | "sgn" | "sin"
        | "cos" | "tan" | "asin" | "acos" | "atan" | "sinh" | "cosh" | "tanh" | "asinh"
        | "acosh" | "atanh" | "deg" | "rad" => {
            let f: fn(f64) -> f64 = match name {
                "abs" => f64::abs,
                "ceil" => f64::ceil,
                "floor" => f64::floor,
                "exp" => f64::exp,
                "ln" => f64::ln,
                "log2" => f64::log2,
                "log10" => f64::log10,
                "sqrt" => f64::sqrt,
                "sgn" => |v: f64| {
                    if v > 0.0 {
                        1.0
                    } else if v < 0.0 {
                        -1.0
                    } else {
                        v
                    }
                },
                "sin" => f64::sin,
                "cos" => f64::cos,
                "tan" => f64::tan,
                "asin" => f64::asin,
                "acos" => f64::acos,
                "atan" => f64::atan,
                "sinh" => f64::sinh,
                "cosh" => f64::cosh,
                "tanh" => f64::tanh,
                "asinh" => f64::asinh,
                "acosh" => f64::acosh,
                "atanh" => f64::atanh,
                "deg" => f64::to_degrees,
                _ => f64::to_radians,
            };
            Ok(map_values(vector_arg(0)?, f))
        }
        "round" => {
            let to = if args.len() > 1 { scalar_arg(1)? } else { 1.0 };
            let inv = 1.0 / to;
            Ok(map_values(vector_arg(0)?, |v| {
                (v * inv + 0.5).floor() / inv
            }))
        }
        "clamp" => {
            let (lo, hi) = (scalar_arg(1)?, scalar_arg(2)?);
            if hi < lo {
                return Ok(Value::Vector(Vec::new()));
            }
            Ok(map_values(vector_arg(0)?, |v| v.max(lo).min(hi)))
        }
        "clamp_min" => {
            let lo = scalar_arg(1)?;
            Ok(map_values(vector_arg(0)?, |v| v.max(lo)))
        }
        "clamp_max" => {
            let hi = scalar_arg(1)?;
            Ok(map_values(vector_arg(0)?, |v| v.min(hi)))
        }
        "timestamp" => {
            // The sample's own time, not the evaluation time.
            let e = arg(0)?;
            let v = timestamps(ev, e, t)?;
            Ok(Value::Vector(v))
        }
        "sort" | "sort_desc" => {
            let mut v = vector_arg(0)?;
            let desc = name == "sort_desc";
            v.sort_by(|a, b| {
                let o = a.value.total_cmp(&b.value);
                if desc { o.reverse() } else { o }
            });
            Ok(Value::Vector(v))
        }
        "histogram_quantile" => {
            let q = scalar_arg(0)?;
            let v = vector_arg(1)?;
            Ok(Value::Vector(histogram_quantile(q, v)))
        }
        "label_replace" => {
            let v = vector_arg(0)?;
            let (dst, repl, src, re) = (
                string_arg(1)?,
                string_arg(2)?,
                string_arg(3)?,
                string_arg(4)?,
            );
            if !valid_label_name(&dst) {
                return Err(PromqlError::Eval(format!(
                    "invalid destination label name {dst:?}"
                )));
            }
            let rx = regex::Regex::new(&format!("^(?s:{re})$")).map_err(|e| {
                PromqlError::Eval(format!("invalid regular expression {re:?}: {e}"))
            })?;
            let mut out = Vec::with_capacity(v.len());
            for mut s in v {
                let val = s.labels.get(&src).unwrap_or("").to_string();
                if let Some(caps) = rx.captures(&val) {
                    let mut res = String::new();
                    // Go's `$1` / `${name}` is Rust regex's syntax too.
                    caps.expand(&repl, &mut res);
                    s.labels.set(&dst, &res);
                }
                out.push(s);
            }
            Ok(Value::Vector(out))
        }
        "label_join" => {
            let v = vector_arg(0)?;
            let (dst, sep) = (string_arg(1)?, string_arg(2)?);
            let mut srcs = Vec::new();
            for i in 3..args.len() {
                srcs.push(string_arg(i)?);
            }
            let mut out = Vec::with_capacity(v.len());
            for mut s in v {
                let joined: Vec<&str> =
                    srcs.iter().map(|n| s.labels.get(n).unwrap_or("")).collect();
                let joined = joined.join(&sep);
                s.labels.set(&dst, &joined);
                out.push(s);
            }
            Ok(Value::Vector(out))
        }
        "minute" | "hour" | "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month"
        | "month" | "year" => {
            let input = if args.is_empty() {
                vec![Sample {
                    labels: Labels::default(),
                    value: t as f64 / 1000.0,
                }]
            } else {
                vector_arg(0)?
            };
            Ok(map_values(input, |v| date_part(name, v)))
        }
        other => Err(PromqlError::Unsupported(format!("the function {other}()"))),
    }
}

/// Applies `f` to each series of a range; the result keeps the metric name only for
/// `last_over_time`.
fn over(r: Range, keep_name: bool, f: impl Fn(&[(i64, f64)], &Range) -> Option<f64>) -> Value {
    let mut out = Vec::with_capacity(r.series.len());
    for s in &r.series {
        if s.samples.is_empty() {
            continue;
        }
        if let Some(v) = f(&s.samples, &r) {
            out.push(Sample {
                labels: if keep_name {
                    s.labels.clone()
                } else {
                    s.labels.without_name()
                },
                value: v,
            });
        }
    }
    Value::Vector(out)
}

fn map_values(v: Vec<Sample>, f: impl Fn(f64) -> f64) -> Value {
    Value::Vector(
        v.into_iter()
            .map(|s| Sample {
                labels: s.labels.without_name(),
                value: f(s.value),
            })
            .collect(),
    )
}

/// `rate`, `increase` and `delta` with Prometheus' extrapolation to the window's edges.
fn extrapolated(s: &[(i64, f64)], r: &Range, is_counter: bool, is_rate: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (first, last) = (s[0], s[s.len() - 1]);
    let mut result = last.1 - first.1;
    if is_counter {
        let mut prev = 0.0;
        for &(_, v) in s {
            if v < prev {
                result += prev;
            }
            prev = v;
        }
    }
    let mut to_start = (first.0 - r.lo) as f64 / 1000.0;
    let to_end = (r.hi - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg_gap = sampled / (s.len() - 1) as f64;
    if is_counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg_gap * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        avg_gap / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        avg_gap / 2.0
    };
    // One factor, then one multiplication: the same rounding as Prometheus.
    let mut factor = interval / sampled;
    if is_rate {
        factor /= r.range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

fn instant_delta(s: &[(i64, f64)], is_rate: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (prev, last) = (s[s.len() - 2], s[s.len() - 1]);
    let mut v = if is_rate && last.1 < prev.1 {
        last.1
    } else {
        last.1 - prev.1
    };
    let gap = last.0 - prev.0;
    if gap == 0 {
        return None;
    }
    if is_rate {
        v /= gap as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares slope and intercept, x in seconds relative to `intercept_time`.
fn linear_regression(s: &[(i64, f64)], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut sum_y, mut sum_xy, mut sum_x2) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    let init_y = s[0].1;
    let mut const_y = true;
    for (i, &(ts, v)) in s.iter().enumerate() {
        if const_y && i > 0 && v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (ts - intercept_time) as f64 / 1000.0;
        sum_x += x;
        sum_y += v;
        sum_xy += x * v;
        sum_x2 += x * x;
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// The φ-quantile of values, interpolated as Prometheus does.
pub(crate) fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

fn histogram_quantile(q: f64, v: Vec<Sample>) -> Vec<Sample> {
    let mut groups: Vec<(Labels, Vec<(f64, f64)>)> = Vec::new();
    for s in v {
        let Some(le) = s.labels.get("le").and_then(parse_le) else {
            continue;
        };
        let mut key = s.labels.without_name();
        key.remove("le");
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, b)) => b.push((le, s.value)),
            None => groups.push((key, vec![(le, s.value)])),
        }
    }
    groups
        .into_iter()
        .map(|(labels, buckets)| Sample {
            labels,
            value: bucket_quantile(q, buckets),
        })
        .collect()
}

fn parse_le(s: &str) -> Option<f64> {
    match s.trim() {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

fn bucket_quantile(q: f64, mut b: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    if b.last().is_none_or(|l| l.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Coalesce equal bounds, then force the counts to be monotonic.
    let mut c: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for (ub, n) in b {
        match c.last_mut() {
            Some(l) if l.0 == ub => l.1 += n,
            _ => c.push((ub, n)),
        }
    }
    let mut max = f64::NEG_INFINITY;
    for x in c.iter_mut() {
        if x.1 > max {
            max = x.1;
        } else if x.1 < max {
            x.1 = max;
        }
    }
    if c.len() < 2 {
        return f64::NAN;
    }
    let observations = c[c.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let search_len = c.len() - 1;
    let bi = c[..search_len].partition_point(|x| x.1 < rank);
    if bi == c.len() - 1 {
        return c[c.len() - 2].0;
    }
    if bi == 0 && c[0].0 <= 0.0 {
        return c[0].0;
    }
    let (mut start, end, mut count) = (0.0, c[bi].0, c[bi].1);
    if bi > 0 {
        start = c[bi - 1].0;
        count -= c[bi - 1].1;
        rank -= c[bi - 1].1;
    }
    start + (end - start) * (rank / count)
}

/// `timestamp(v)`: each sample's own time in seconds.
fn timestamps(ev: &Evaluator<'_>, e: &Expr, t: i64) -> R<Vec<Sample>> {
    // For a plain selector the sample time is the stored one; for anything else Prometheus
    // reports the evaluation time.
    let inner = match e {
        Expr::Paren(p) => p.expr.as_ref(),
        other => other,
    };
    if let Expr::VectorSelector(vs) = inner {
        return Ok(ev
            .select_instant_timed(vs, t)?
            .into_iter()
            .map(|(s, ts)| Sample {
                labels: s.labels.without_name(),
                value: ts as f64 / 1000.0,
            })
            .collect());
    }
    let v = ev.eval_vector(e, t, "timestamp()")?;
    Ok(v.into_iter()
        .map(|s| Sample {
            labels: s.labels.without_name(),
            value: t as f64 / 1000.0,
        })
        .collect())
}

/// Labels `absent()` reports: the selector's equality matchers, other than the name.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e {
        Expr::VectorSelector(vs) => Some(vs),
        Expr::MatrixSelector(ms) => Some(&ms.vs),
        _ => None,
    };
    let Some(vs) = vs else {
        return Labels::default();
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut dup: Vec<String> = Vec::new();
    for m in &vs.matchers.matchers {
        if m.name == NAME || !matches!(m.op, MatchOp::Equal) {
            continue;
        }
        if pairs.iter().any(|(n, _)| *n == m.name) {
            dup.push(m.name.clone());
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    pairs.retain(|(n, _)| !dup.contains(n));
    Labels::new(pairs)
}

/// A value as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it.
pub(crate) fn format_value_plain(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn date_part(part: &str, secs: f64) -> f64 {
    if !secs.is_finite() {
        return f64::NAN;
    }
    let t = secs.floor() as i64;
    let days = t.div_euclid(86_400);
    let sod = t.rem_euclid(86_400);
    let (y, m, d) = crate::model::civil_from_days(days);
    let (m, d) = (m as i64, d as i64);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    match part {
        "minute" => ((sod / 60) % 60) as f64,
        "hour" => (sod / 3600) as f64,
        "day_of_month" => d as f64,
        "day_of_week" => ((days + 4).rem_euclid(7)) as f64,
        "day_of_year" => (month_days[..(m as usize - 1)].iter().sum::<i64>() + d) as f64,
        "days_in_month" => month_days[m as usize - 1] as f64,
        "month" => m as f64,
        _ => y as f64,
    }
}
