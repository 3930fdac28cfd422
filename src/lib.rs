//! Sightline's engine: everything that is not windows and pixels.
//!
//! Sources (JSON log files, folders, `.gz` streams; later OTLP, Prometheus endpoints and
//! bundles) are decoded and normalized by [`ingest`] into records ([`model`]), written by
//! the one writer thread of the [`store`] into a SQLite workspace, and read back through
//! [`store::queries`] by the CLI, the desktop app and the tests alike.
//!
//! ```text
//! files ──> ingest (frame + detect + normalize) ──> bounded channel ──> store::writer
//!       ──> SQLite (WAL) <── read-only connections <── queries <── CLI | app | tests
//! ```
//!
//! ```no_run
//! use sightline::{ingest, store::Store};
//! let store = Store::open("workspace.db".as_ref())?;
//! let report = ingest::ingest(&store, &["logs/".into()], &ingest::IngestOptions::default());
//! println!("{} records added", report.records_added);
//! # Ok::<(), sightline::Error>(())
//! ```

pub mod alerts;
pub mod charts;
pub mod demo;
pub mod error;
pub mod export;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod pricing;
pub mod promql;
pub mod redact;
pub mod store;
pub mod time_arg;
pub mod traces;

pub use error::{Error, Result};
