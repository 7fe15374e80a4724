//! One parser per file. Each file opens with the same sections: what it
//! reads, how fields map, what the fingerprint is made of, what it does not
//! read yet, and where the format is specified.

pub(crate) mod cloud_posture;
pub mod cyclonedx_json;
pub mod gitleaks_json;
pub mod grype_json;
pub mod nessus_xml;
pub mod nmap_xml;
pub mod prowler_ocsf_json;
pub mod prowler_v2_csv;
pub mod prowler_v2_json;
pub mod prowler_v3_json;
pub mod prowler_v4_csv;
pub mod sarif;
pub mod scoutsuite_js;
pub mod trivy_json;
pub mod zap_json;
