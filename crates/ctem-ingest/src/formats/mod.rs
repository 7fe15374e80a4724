//! One parser per file. Each file opens with the same sections: what it
//! reads, how fields map, what the fingerprint is made of, what it does not
//! read yet, and where the format is specified.

pub mod burp_api_json;
pub(crate) mod burp_shared;
pub mod burp_xml;
pub mod cyclonedx_json;
pub(crate) mod dast_shared;
pub(crate) mod dast_xml;
pub mod gitleaks_json;
pub mod grype_json;
pub mod nessus_xml;
pub mod nikto_json;
pub(crate) mod nikto_shared;
pub mod nikto_xml;
pub mod nmap_xml;
pub mod nuclei_jsonl;
pub mod sarif;
pub mod trivy_json;
pub mod zap_json;
pub mod zap_xml;
