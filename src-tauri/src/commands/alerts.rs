//! The Alerts view: rules and alerts from the workspace, the rule editor, silences, settings
//! and backtests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sightline::alerts::status::{self, AlertSettings, AlertsOverview};
use tauri::State;

use super::blocking;
use crate::error::{AppError, AppResult, from_engine};
use crate::state::AppState;

/// The overview plus what the app knows beyond the workspace.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AlertsView {
    pub overview: AlertsOverview,
    /// Why some rules are not running (a rule file that no longer parses), if so.
    pub problem: Option<String>,
    pub now_ms: f64,
}

#[tauri::command]
#[specta::specta]
pub async fn alerts_overview(state: State<'_, AppState>, limit: u32) -> AppResult<AlertsView> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let now = sightline::model::now_ms();
        let overview = status::overview(&c, u64::from(limit.clamp(1, 1000)), now)
            .map_err(|e| from_engine(e, &name))?;
        let problem = w.alerts_problem.lock().ok().and_then(|p| p.clone());
        Ok(AlertsView {
            overview,
            problem,
            now_ms: now as f64,
        })
    })
    .await
}

/// The rule editor's content and the settings.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AlertConfig {
    /// The workspace's own rules (Prometheus rule-file YAML).
    pub rules: String,
    /// The built-in agent rules, read-only.
    pub builtin: String,
    pub settings: AlertSettings,
}

#[tauri::command]
#[specta::specta]
pub async fn alerts_config(state: State<'_, AppState>) -> AppResult<AlertConfig> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let (settings, rules, _, _) =
            status::app_runner_config(&c).map_err(|e| from_engine(e, &name))?;
        Ok(AlertConfig {
            rules,
            builtin: sightline::alerts::rules::DEFAULT_RULES.to_string(),
            settings,
        })
    })
    .await
}

/// One problem found in rule text.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RuleProblem {
    pub message: String,
    /// 1-based line the problem is on, when known.
    pub line: Option<u32>,
    /// Warnings do not stop the rules from running.
    pub warning: bool,
}

/// What checking rule text found; `groups`/`rules` count what would run.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RuleCheck {
    pub problems: Vec<RuleProblem>,
    pub groups: u32,
    pub rules: u32,
}

fn line_of(message: &str) -> Option<u32> {
    // serde_yaml and our own messages say "line N" / "at line N".
    let i = message.find("line ")?;
    let digits: String = message[i + 5..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

fn check_text(text: &str) -> RuleCheck {
    match status::parse_workspace_rules(text) {
        Ok(groups) => {
            let mut problems = Vec::new();
            for g in &groups {
                for w in g.warnings() {
                    problems.push(RuleProblem {
                        line: line_of(&w),
                        message: w,
                        warning: true,
                    });
                }
            }
            RuleCheck {
                problems,
                groups: groups.len() as u32,
                rules: groups.iter().map(|g| g.rules.len() as u32).sum(),
            }
        }
        Err(e) => {
            let message = e.message.clone();
            RuleCheck {
                problems: vec![RuleProblem {
                    line: line_of(&message),
                    message,
                    warning: false,
                }],
                groups: 0,
                rules: 0,
            }
        }
    }
}

/// Validates rule text as the editor types.
#[tauri::command]
#[specta::specta]
pub async fn alerts_rules_check(text: String) -> AppResult<RuleCheck> {
    blocking(move || Ok(check_text(&text))).await
}

/// Saves the workspace's rules and settings and restarts evaluation with them. Rule text
/// with errors is refused (nothing is saved).
#[tauri::command]
#[specta::specta]
pub async fn alerts_save(
    state: State<'_, AppState>,
    rules: String,
    settings: AlertSettings,
) -> AppResult<RuleCheck> {
    let w = state.workspace()?;
    blocking(move || {
        let check = check_text(&rules);
        if check.problems.iter().any(|p| !p.warning) {
            return Ok(check);
        }
        let url = settings.webhook_url.trim();
        if !url.is_empty() && !url.starts_with("http://") {
            return Err(AppError::Invalid {
                message: format!("webhook {url:?}: only http:// URLs are supported"),
            });
        }
        let name = w.name();
        let writer = w.store.writer().ok_or_else(|| AppError::Invalid {
            message: "the workspace is read-only".into(),
        })?;
        status::config_set(writer, "rules", &rules).map_err(|e| from_engine(e, &name))?;
        let json = serde_json::to_string(&settings).map_err(|e| AppError::Internal {
            message: e.to_string(),
        })?;
        status::config_set(writer, "settings", &json).map_err(|e| from_engine(e, &name))?;
        w.restart_alerts()?;
        Ok(check)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn alerts_silence_add(
    state: State<'_, AppState>,
    matchers: String,
    duration_ms: f64,
    comment: String,
) -> AppResult<String> {
    let w = state.workspace()?;
    blocking(move || {
        let writer = w.store.writer().ok_or_else(|| AppError::Invalid {
            message: "the workspace is read-only".into(),
        })?;
        let now = sightline::model::now_ms();
        sightline::alerts::runner::add_silence(
            writer,
            &matchers,
            now,
            now + duration_ms.max(1000.0) as i64,
            &comment,
            "app",
        )
        .map_err(|e| AppError::Invalid {
            message: e.to_string(),
        })
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn alerts_silence_expire(state: State<'_, AppState>, id: String) -> AppResult<()> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let writer = w.store.writer().ok_or_else(|| AppError::Invalid {
            message: "the workspace is read-only".into(),
        })?;
        sightline::alerts::runner::expire_silence(writer, &id)
            .map_err(|e| from_engine(e, &name))?;
        Ok(())
    })
    .await
}

/// The UI says whether the Alerts view is on screen in the focused window.
#[tauri::command]
#[specta::specta]
pub async fn alerts_set_viewing(state: State<'_, AppState>, viewing: bool) -> AppResult<()> {
    let w = state.workspace()?;
    w.set_alerts_viewing(viewing);
    Ok(())
}

/// One phase stretch of a backtested alert.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct BacktestBand {
    pub alertname: String,
    pub labels: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub phase: String,
    pub from_ms: f64,
    pub to_ms: f64,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BacktestResult {
    pub bands: Vec<BacktestBand>,
    pub evaluations: f64,
    pub errors: Vec<String>,
    pub start_ms: f64,
    pub end_ms: f64,
}

/// Evaluates the rules in force over `[start_ms, end_ms]` (default: all recorded samples).
#[tauri::command]
#[specta::specta]
pub async fn alerts_backtest(
    state: State<'_, AppState>,
    start_ms: Option<f64>,
    end_ms: Option<f64>,
) -> AppResult<BacktestResult> {
    let w = state.workspace()?;
    blocking(move || {
        let name = w.name();
        let c = w.store.reader().map_err(|e| from_engine(e, &name))?;
        let (_, _, cfg, _) = status::app_runner_config(&c).map_err(|e| from_engine(e, &name))?;
        let (_, _, lo, hi) = sightline::store::queries::series::sample_stats(&c)
            .map_err(|e| from_engine(e, &name))?;
        let start = start_ms.map(|v| v as i64).or(lo).unwrap_or(0);
        let end = end_ms.map(|v| v as i64).or(hi).unwrap_or(start);
        // Long ranges are stepped more coarsely so a backtest stays interactive.
        let step = ((end - start) / 2000).max(5_000);
        let mut groups = cfg.groups;
        for g in &mut groups {
            g.interval_ms = Some(g.interval_ms.unwrap_or(step).max(step));
        }
        let src = sightline::store::queries::series::StoreSource::new(&c);
        let report = sightline::alerts::backtest::backtest(&src, &groups, start, end, step)
            .map_err(|message| AppError::Invalid { message })?;
        let mut bands = Vec::new();
        for a in report.alerts {
            for s in a.spans {
                let phase = match s.phase {
                    sightline::alerts::engine::AlertPhase::Pending => "pending",
                    sightline::alerts::engine::AlertPhase::Firing => "firing",
                    sightline::alerts::engine::AlertPhase::Inactive => continue,
                };
                bands.push(BacktestBand {
                    alertname: a.alertname.clone(),
                    labels: a.labels.clone().into(),
                    phase: phase.into(),
                    from_ms: s.from_ms as f64,
                    to_ms: s.to_ms as f64,
                });
            }
        }
        Ok(BacktestResult {
            bands,
            evaluations: report.evaluations as f64,
            errors: report.errors,
            start_ms: start as f64,
            end_ms: end as f64,
        })
    })
    .await
}
