//! Helpers shared by the tests of the example binaries.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The example binary `name`, which `cargo test` builds beside the test binaries
/// (built now when only one test was asked for).
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap().to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "editgroups-examples", "--example", name])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build the {name} example");
    }
    binary
}

/// The path of a recorded fixture.
pub(crate) fn fixture(name: &str) -> String {
    format!(
        "{}/../fixtures/editgroups/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}
