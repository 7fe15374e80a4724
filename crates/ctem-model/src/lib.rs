//! The domain model of ctem.
//!
//! This crate owns the types that every other ctem crate speaks: [`Asset`]s
//! (what can be attacked or must be protected), [`Relationship`]s between
//! them, [`Finding`]s (one weakness on one asset at one location) and the
//! validated identifiers they carry ([`CveId`], [`VulnerabilityId`], [`Purl`],
//! [`CvssVector`], [`Severity`]). It also owns the [`VexStatement`]s that
//! suppliers publish about vulnerabilities in their products. It performs
//! no I/O.
//!
//! Identifiers validate when they are built, so code past a parser never
//! handles a raw CVE id or CVSS string:
//!
//! ```
//! use ctem_model::{CveId, CvssVector, Severity};
//!
//! let cve: CveId = "cve-2021-44228".parse().unwrap();
//! assert_eq!(cve.as_str(), "CVE-2021-44228");
//!
//! let vector: CvssVector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".parse().unwrap();
//! assert_eq!(vector.base_score(), 10.0);
//! assert_eq!(Severity::from_cvss_score(vector.base_score()), Severity::Critical);
//! ```
//!
//! A finding's [`Fingerprint`] is its identity across runs: it is built only
//! from fields that do not drift between two scans of the same weakness (see
//! [`fingerprint`]).

mod asset;
mod controls;
mod cvss_vector;
mod finding;
pub mod fingerprint;
mod ids;
mod risk;
mod secret;
mod severity;
mod vex;

pub use asset::{Asset, AssetKey, AssetKind, Criticality, Relationship, RelationshipKind};
/// The string type of [`Factor`] texts: inline up to 24 bytes, borrowed
/// when static.
pub use compact_str::{CompactString, ToCompactString, format_compact};
pub use controls::Controls;
pub use cvss_vector::{CvssError, CvssVector, CvssVersion, Metrics};
pub use finding::{Component, Finding, FindingKind, Fix, Location, SourceStatus};
pub use fingerprint::{FINGERPRINT_VERSION, Fingerprint, MERGE_KEY_VERSION, MergeKey, MergeRule};
pub use ids::{CveId, Cwe, IdError, Purl, VulnerabilityId};
pub use risk::{Deadline, Decision, Factor, LifecycleStatus, RiskAssessment, Tier, Validation};
pub use secret::MaskedSecret;
pub use severity::{Severity, SeverityError};
pub use vex::{Cpe, ProductId, VexError, VexProduct, VexSource, VexStatement, VexStatus, is_rfc3339};
