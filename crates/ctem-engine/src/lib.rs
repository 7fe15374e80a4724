//! The assess pipeline of ctem.
//!
//! The engine ties the library crates together: it reads the
//! [configuration](config), finds and parses report files (through
//! `ctem-ingest`), resolves one [inventory](inventory) of assets, applies
//! the configuration's criticality, exposure and owner rules, enriches and
//! scores every finding (`ctem-intel`, `ctem-risk`) after the run's
//! [VEX statements](vex) have set the status of the findings they match,
//! derives the [attack paths](paths) to the crown jewels (`ctem-graph`),
//! and records the run in the store (`ctem-store`) in one transaction. The
//! [report] module renders the results, and [actions] groups the findings
//! into ranked remediation actions.
//!
//! ```no_run
//! use ctem_engine::{AssessRequest, NoProgress, assess, config::Config};
//! use ctem_store::Store;
//!
//! let mut store = Store::open("ctem.db".as_ref()).unwrap();
//! let request = AssessRequest {
//!     paths: vec!["examples/acme".into()],
//!     config: Config::load("examples/acme/ctem.toml".as_ref()).unwrap(),
//!     config_path: Some("examples/acme/ctem.toml".into()),
//!     intel_dir: None,
//!     intel_cache: None,
//!     target: None,
//!     observed_at: None,
//!     strict: false,
//! };
//! let outcome = assess(&request, &mut store, &NoProgress).unwrap();
//! println!("{} new findings", outcome.summary.new);
//! ```

pub mod actions;
mod assess;
pub mod config;
pub mod evaluation;
mod files;
pub mod inventory;
pub mod json;
pub mod metrics;
pub mod owners;
pub mod paths;
pub mod policy;
pub mod prioritization;
pub mod report;
pub mod sla;
pub mod synthetic;
pub mod tickets;
pub mod vex;

pub use assess::{
    Analysis, AssessError, AssessOutcome, AssessRequest, FileOutcome, FileStatus, NoProgress, PathsOutcome, Progress,
    analyze, analyze_paths, assess, assess_with_policy, load_policy, rank,
};
