//! Copying recorded runs from the write-ahead log into the database file on
//! a helper thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that fills the log.
//! It would make `record_run` wait while a large run is copied a second
//! time and the file is synced, which took 0.4 to 0.6 s of a 2 s run of
//! 100,000 findings in the benchmark (2 cores, ext4). The store turns it
//! off on its own connection and starts a PASSIVE checkpoint on a second
//! connection after each run instead. PASSIVE never blocks readers or
//! writers, but the store's next run waits for it, because only a write
//! that begins after the whole log was copied starts the log over. A
//! checkpoint that fails loses nothing: the run stays in the log, where
//! readers find it, until a later checkpoint or the last connection to
//! close copies it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::Store;
use crate::error::BUSY_TIMEOUT_SECS;

impl Store {
    /// Waits until the checkpoint started by the latest
    /// [`Store::record_run`] has copied the run into the database file.
    /// Dropping the store waits too.
    pub fn wait_for_checkpoint(&mut self) {
        if let Some(handle) = self.checkpoint.take()
            && handle.join().is_err()
        {
            tracing::warn!(path = %self.path.display(), "the checkpoint thread panicked");
        }
    }

    /// Starts a checkpoint on a helper thread, after the previous one ends.
    pub(crate) fn start_checkpoint(&mut self) {
        self.wait_for_checkpoint();

        let path = self.path.clone();
        let spawned = std::thread::Builder::new()
            .name("ctem-checkpoint".to_string())
            .spawn(move || checkpoint(&path));
        match spawned {
            Ok(handle) => self.checkpoint = Some(handle),
            // Without a thread, the copy runs here rather than not at all.
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "failed to start a checkpoint thread; checkpointing on this thread");
                checkpoint(&self.path);
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.wait_for_checkpoint();
    }
}

fn checkpoint(path: &Path) {
    match run_checkpoint(path.to_path_buf()) {
        Ok((log_frames, copied_frames)) => {
            tracing::debug!(path = %path.display(), log_frames, copied_frames, "checkpointed");
        }
        Err(error) => tracing::warn!(
            path = %path.display(),
            %error,
            "checkpoint failed; the run stays in the write-ahead log until a later checkpoint"
        ),
    }
}

/// Returns the frames in the log and the frames copied.
fn run_checkpoint(path: PathBuf) -> rusqlite::Result<(i64, i64)> {
    let conn = Connection::open(crate::store::sqlite_path(&path))?;
    conn.busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS))?;
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    })
}
