//! End-to-end tests, one binary: the engine on real temp SQLite files and the built CLI on
//! real files, against `../shared/corpus` and agentgen's ground truth.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod agentgen;
mod alerts_live;
mod bundles;
mod charts;
mod cli;
mod corpus;
mod cost;
mod cursor;
mod latency;
mod live;
mod metrics;
mod prom;
mod promql;
mod queries;
mod scrape;
mod traces;
