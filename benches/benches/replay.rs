//! Replay throughput into each store is measured by the `store` benchmark
//! (`benches/store.rs`).

fn main() {}
