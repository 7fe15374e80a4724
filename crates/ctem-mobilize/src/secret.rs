//! Credentials from an environment variable or a file, never from
//! `ctem.toml` itself.

use std::path::{Path, PathBuf};

use crate::tracker::TrackerError;

/// Reads a secret from the variable `env_name` (through `env`), else from
/// `file` relative to `config_dir`. `section` names the configuration
/// table, such as `tickets.github`, and `file_key` its key for the file,
/// such as `token_file`, in the error.
pub fn read_secret(
    tracker: &str,
    section: &str,
    file_key: &str,
    env_name: Option<&str>,
    file: Option<&PathBuf>,
    config_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TrackerError> {
    let missing = |reason: String| TrackerError::Credentials {
        tracker: tracker.to_string(),
        reason,
    };
    if let Some(secret) = env_name.and_then(env).filter(|secret| !secret.trim().is_empty()) {
        return Ok(secret.trim().to_string());
    }
    let Some(file) = file else {
        return Err(missing(match env_name {
            Some(env_name) => format!(
                "set the environment variable {env_name}, or set {file_key} in [{section}] to a file that contains it"
            ),
            None => format!("[{section}] names no environment variable or {file_key}"),
        }));
    };
    let path = config_dir.join(file);
    let text =
        std::fs::read_to_string(&path).map_err(|error| missing(format!("cannot read {}: {error}", path.display())))?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(missing(format!("{} is empty", path.display())));
    }
    Ok(secret)
}
