//! The warning of the STIX loader, in a test binary of its own: tracing
//! caches per call site whether anyone listens, and parallel tests that
//! load bundles without a subscriber would make this test miss the event.

mod common;

use common::{capture_logs, fixture};
use ctem_intel::StixBundle;

#[test]
fn broken_references_warn() {
    let (result, logs) = capture_logs(|| StixBundle::load(fixture("stix/bundle.json")));
    let bundle = result.expect("the fixture bundle loads");
    assert_eq!(bundle.broken_references().len(), 2);
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("references objects it does not contain"), "{logs}");
    assert!(logs.contains("broken=2"), "{logs}");
}
