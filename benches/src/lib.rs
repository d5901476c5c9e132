//! Shared helpers of the editgroups benchmarks.
