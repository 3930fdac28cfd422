//! Level normalization: every library's spelling and number mapped onto six levels.
//!
//! Numbers are ambiguous across ecosystems (30 is `info` for pino and bunyan but `warning`
//! for Python), so numeric mapping takes the scale the dialect uses.

use crate::model::Level;

/// Which numeric convention a level number follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelScale {
    /// bunyan / pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
    Bunyan,
    /// Python logging / loguru: 5 trace, 10 debug, 20 info, 25 success, 30 warning,
    /// 40 error, 50 critical.
    Python,
    /// OpenTelemetry SeverityNumber: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn,
    /// 17-20 error, 21-24 fatal.
    Otel,
    /// syslog severities: 0 emerg .. 7 debug.
    Syslog,
}

/// Maps a level name, case-insensitively. Unknown names give `None`.
pub fn level_from_name(s: &str) -> Option<Level> {
    let t = s.trim();
    // Fast path for the common lowercase spellings.
    let l = match t {
        "info" => return Some(Level::Info),
        "debug" => return Some(Level::Debug),
        "error" => return Some(Level::Error),
        "warn" | "warning" => return Some(Level::Warn),
        _ => t.to_ascii_lowercase(),
    };
    // slog writes levels between the named ones as "INFO+2", "ERROR-4".
    let (base, delta) = match l.find(['+', '-']) {
        Some(i) if i > 0 => (&l[..i], l[i..].parse::<i64>().ok()),
        _ => (l.as_str(), None),
    };
    let level = match base {
        "trace" | "trc" | "verbose" | "vrb" | "finest" | "finer" | "all" => Level::Trace,
        "debug" | "dbg" | "dbug" | "debu" | "fine" | "config" => Level::Debug,
        "info" | "inf" | "information" | "informational" | "notice" | "success" | "ok" | "log" => {
            Level::Info
        }
        "warn" | "warning" | "wrn" | "warnings" => Level::Warn,
        "error" | "err" | "eror" | "dpanic" | "severe" | "failure" | "fail" => Level::Error,
        "fatal" | "ftl" | "critical" | "crit" | "panic" | "alert" | "emerg" | "emergency" => {
            Level::Fatal
        }
        _ => return None,
    };
    Some(match delta {
        // slog: each named level is 4 apart; INFO+2 is still info, INFO+4 is warn.
        Some(d) => {
            let n = level as i64 + d.div_euclid(4);
            Level::from_i64(n.clamp(0, 5)).unwrap_or(level)
        }
        None => level,
    })
}

/// Maps a level number in the given scale. Values between the named ones round down.
pub fn level_from_number(n: f64, scale: LevelScale) -> Option<Level> {
    if !n.is_finite() {
        return None;
    }
    Some(match scale {
        LevelScale::Bunyan => match n {
            x if x < 20.0 => Level::Trace,
            x if x < 30.0 => Level::Debug,
            x if x < 40.0 => Level::Info,
            x if x < 50.0 => Level::Warn,
            x if x < 60.0 => Level::Error,
            _ => Level::Fatal,
        },
        LevelScale::Python => match n {
            x if x < 10.0 => Level::Trace,
            x if x < 20.0 => Level::Debug,
            x if x < 30.0 => Level::Info,
            x if x < 40.0 => Level::Warn,
            x if x < 50.0 => Level::Error,
            _ => Level::Fatal,
        },
        LevelScale::Otel => match n {
            x if x < 1.0 => return None,
            x if x < 5.0 => Level::Trace,
            x if x < 9.0 => Level::Debug,
            x if x < 13.0 => Level::Info,
            x if x < 17.0 => Level::Warn,
            x if x < 21.0 => Level::Error,
            _ => Level::Fatal,
        },
        LevelScale::Syslog => match n as i64 {
            0..=2 => Level::Fatal,
            3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            7 => Level::Debug,
            _ => return None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(level_from_name("WARNING"), Some(Level::Warn));
        assert_eq!(level_from_name("Information"), Some(Level::Info));
        assert_eq!(level_from_name("SUCCESS"), Some(Level::Info));
        assert_eq!(level_from_name("dpanic"), Some(Level::Error));
        assert_eq!(level_from_name("CRITICAL"), Some(Level::Fatal));
        assert_eq!(level_from_name("Verbose"), Some(Level::Trace));
        assert_eq!(level_from_name("INFO+2"), Some(Level::Info));
        assert_eq!(level_from_name("INFO+4"), Some(Level::Warn));
        assert_eq!(level_from_name("ERROR-4"), Some(Level::Warn));
        assert_eq!(level_from_name("banana"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            level_from_number(55.0, LevelScale::Bunyan),
            Some(Level::Error)
        );
        assert_eq!(
            level_from_number(30.0, LevelScale::Bunyan),
            Some(Level::Info)
        );
        assert_eq!(
            level_from_number(30.0, LevelScale::Python),
            Some(Level::Warn)
        );
        assert_eq!(
            level_from_number(25.0, LevelScale::Python),
            Some(Level::Info)
        );
        assert_eq!(level_from_number(9.0, LevelScale::Otel), Some(Level::Info));
        assert_eq!(
            level_from_number(17.0, LevelScale::Otel),
            Some(Level::Error)
        );
        assert_eq!(level_from_number(0.0, LevelScale::Otel), None);
    }
}
