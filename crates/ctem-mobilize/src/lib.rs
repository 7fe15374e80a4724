//! Mobilization: getting each remediation to the team that fixes it, and
//! keeping issue trackers and ctem in step.
//!
//! - [`codeowners`] reads CODEOWNERS files, so that a finding at a file
//!   path of a scanned repository gets the owners the repository names.
//! - [`tracker`] is the interface to one issue tracker, and [`jira`] its
//!   Jira Cloud and Jira Data Center implementation over [`http`], with
//!   typed custom fields in [`jira_fields`];
//!   [`github`] and [`gitlab`] connect GitHub Issues and GitLab Issues.
//! - [`sync`] keeps one ticket per remediation action (or per finding) in
//!   step with the lifecycle in the store, in both directions, without
//!   duplicates; [`config`] is its `[tickets]` table.
//! - [`notify`] sends new P1 work, SLA breaches and a weekly digest to
//!   signed webhooks and Slack, once per event.
//!
//! ```
//! use ctem_mobilize::codeowners::Codeowners;
//!
//! let file = Codeowners::parse("CODEOWNERS", "*.rs @acme/rust\n/docs/ docs@acme.example\n").unwrap();
//! assert_eq!(file.owners_of("src/main.rs").unwrap().owners, ["@acme/rust"]);
//! assert_eq!(file.owners_of("docs/guide.md").unwrap().line, 2);
//! ```

pub mod codeowners;
pub mod config;
#[cfg(feature = "fake-forge")]
pub mod fake_forge;
#[cfg(feature = "fake-jira")]
mod fake_http;
#[cfg(feature = "fake-jira")]
pub mod fake_jira;
mod forge;
pub mod github;
pub mod gitlab;
pub mod http;
pub mod jira;
pub mod jira_fields;
pub mod markdown;
pub mod notify;
pub mod secret;
pub mod sync;
pub mod tracker;
