//! One parser per file. Each file opens with the same sections: what it
//! reads, how fields map, what the fingerprint is made of, what it does not
//! read yet, and where the format is specified.

pub mod cyclonedx_json;
pub mod gitleaks_json;
pub mod grype_json;
pub(crate) mod host_scan_shared;
pub mod nessus_csv;
pub mod nessus_xml;
pub mod nmap_xml;
pub mod openvas_csv;
pub mod openvas_xml;
pub mod qualys_csv;
pub mod qualys_xml;
pub mod sarif;
pub mod trivy_json;
pub mod zap_json;
