//! One parser per file. Each file opens with the same sections: what it
//! reads, how fields map, what the fingerprint is made of, what it does not
//! read yet, and where the format is specified.

pub mod bandit_json;
pub mod cyclonedx_json;
pub mod eslint_json;
pub mod gitleaks_json;
pub mod gosec_json;
pub mod grype_json;
pub(crate) mod json_stream;
pub mod nessus_xml;
pub mod nmap_xml;
pub(crate) mod repository_scope;
pub mod sarif;
pub(crate) mod secrets_shared;
pub mod semgrep_json;
pub mod semgrep_pro_json;
pub(crate) mod semgrep_shared;
pub mod trivy_json;
pub mod trufflehog3_json;
pub mod trufflehog_json;
pub mod zap_json;
