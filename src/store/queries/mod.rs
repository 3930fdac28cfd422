//! Read queries, one file per entity. All run on read-only connections.

pub mod cost;
pub mod latency;
pub mod logs;
pub mod series;
pub mod sources;
pub mod spans;
pub mod stats;
