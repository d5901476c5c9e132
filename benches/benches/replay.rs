//! Replay throughput (not written yet).

fn main() {}
