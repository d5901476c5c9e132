//! Placeholder until the matcher benchmark lands.
fn main() {}
