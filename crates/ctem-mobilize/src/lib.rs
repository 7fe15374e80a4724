//! Mobilization: getting each remediation to the team that fixes it, and
//! keeping issue trackers and ctem in step.
//!
//! - [`codeowners`] reads CODEOWNERS files, so that a finding at a file
//!   path of a scanned repository gets the owners the repository names.
//!
//! ```
//! use ctem_mobilize::codeowners::Codeowners;
//!
//! let file = Codeowners::parse("CODEOWNERS", "*.rs @acme/rust\n/docs/ docs@acme.example\n").unwrap();
//! assert_eq!(file.owners_of("src/main.rs").unwrap().owners, ["@acme/rust"]);
//! assert_eq!(file.owners_of("docs/guide.md").unwrap().line, 2);
//! ```

pub mod codeowners;
