//! Placeholder until the replay benchmark lands.
fn main() {}
