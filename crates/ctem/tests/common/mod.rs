//! Helpers that the command-line tests share.

// Each test file uses a part of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds a command that runs the `ctem` binary of this build, without the
/// `CTEM_DB` and `CTEM_LOG` of the calling environment. Its intel cache
/// folder does not exist, so that a cache that `ctem intel update` filled
/// on this machine cannot change the results.
pub fn ctem() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ctem"));
    let no_cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-intel-cache");
    command
        .env_remove("CTEM_DB")
        .env_remove("CTEM_LOG")
        .env("CTEM_INTEL_CACHE", no_cache);
    command
}

/// Returns the folder of the example environment, `examples/acme`.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme")
}

/// Copies a folder and everything below it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
