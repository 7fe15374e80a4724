//! Helpers shared by the integration tests of ctem-intel.

#![allow(dead_code)] // Each test binary uses a different part of this module.

pub mod http;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flate2::Compression;
use flate2::write::GzEncoder;

/// Returns the path of a fixture under `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// Returns the folder of the shared data (containing `intel/`), or `None`
/// with a note on stderr when `CTEM_SHARED` is unset.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    match std::env::var_os("CTEM_SHARED") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!("{test}: skipped, CTEM_SHARED is not set");
            None
        }
    }
}

/// Reads a JSON fixture under `tests/fixtures`.
pub fn fixture_json(relative: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(relative)).expect("read fixture");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// Returns the JSON fixture `relative` with the value at the JSON pointer `pointer` replaced.
pub fn fixture_json_with(relative: &str, pointer: &str, replacement: serde_json::Value) -> serde_json::Value {
    let mut document = fixture_json(relative);
    *document
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} exists in {relative}")) = replacement;
    document
}

/// Checks that `error` is an `IntelError::Invalid` of the file
/// `variant.json` at `location` whose reason contains `reason`.
pub fn assert_invalid(error: &ctem_intel::IntelError, case: &str, location: &str, reason: &str) {
    let ctem_intel::IntelError::Invalid {
        path,
        location: found_location,
        reason: found_reason,
    } = error
    else {
        panic!("{case}: expected an Invalid error, got {error}");
    };
    assert_eq!(path, "variant.json", "{case}");
    assert_eq!(found_location, location, "{case}");
    assert!(found_reason.contains(reason), "{case}: {found_reason}");
}

/// Compresses bytes into one gzip member.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("write to memory");
    encoder.finish().expect("finish gzip in memory")
}

/// Runs `work` with a tracing subscriber that records every event as text.
pub fn capture_logs<T>(work: impl FnOnce() -> T) -> (T, String) {
    let buffer = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buffer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    // A test on another thread without a subscriber may register a
    // callsite first, and tracing would cache its interest as "never". A
    // global subscriber that returns "sometimes" makes every event ask the
    // subscriber of its own thread.
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let _ = tracing::subscriber::set_global_default(AskEveryTime);
    });
    let result = tracing::subscriber::with_default(subscriber, work);
    let text = String::from_utf8(buffer.0.lock().expect("log buffer lock").clone()).expect("logs are UTF-8");
    (result, text)
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A subscriber that records nothing and registers every callsite with
/// interest "sometimes", so that scoped subscribers decide per event.
struct AskEveryTime;

impl tracing::Subscriber for AskEveryTime {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}
