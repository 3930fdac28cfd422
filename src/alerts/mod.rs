//! Alert and recording rules in Prometheus' rule-file format, evaluated locally.
//!
//! [`rules`] reads rule files, [`template`] expands label and annotation templates,
//! [`engine`] evaluates groups and runs the alert state machine, and [`unittest`] runs
//! promtool-format rule unit tests over in-memory series written in [`notation`].

pub mod backtest;
pub mod deliver;
pub mod engine;
pub mod head;
pub mod live;
pub mod notation;
pub mod policy;
pub mod rules;
pub mod runner;
pub mod status;
pub mod template;
pub mod unittest;
