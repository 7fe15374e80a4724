//! One parser per file. Each file opens with the same sections: what it
//! reads, how fields map, what the fingerprint is made of, what it does not
//! read yet, and where the format is specified.

pub mod checkov_json;
pub mod cyclonedx_json;
pub mod gitleaks_json;
pub mod grype_json;
pub(crate) mod iac_shared;
pub mod kics_json;
pub mod kube_bench_json;
pub mod kubescape_json;
pub mod nessus_xml;
pub mod nmap_xml;
pub mod sarif;
pub mod tfsec_json;
pub mod trivy_json;
pub mod zap_json;
