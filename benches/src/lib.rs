//! Shared helpers of the editgroups benchmarks: a generator of realistic
//! recent-change streams.

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod generator;

pub use generator::{Generator, GeneratorConfig, write_events};
