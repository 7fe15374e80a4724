//! Helpers that the command-line tests share.

use std::path::Path;
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
