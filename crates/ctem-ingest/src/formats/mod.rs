//! One parser per file. Each file opens with the same sections: what it
//! reads, how fields map, what the fingerprint is made of, what it does not
//! read yet, and where the format is specified.

pub mod anchore_engine_json;
pub mod checkov_json;
pub mod clair_json;
pub(crate) mod cloud_posture;
pub mod cyclonedx_json;
pub mod cyclonedx_xml;
pub mod dependency_check_xml;
pub mod gitleaks_json;
pub mod grype_json;
pub(crate) mod host_scan_shared;
pub(crate) mod iac_shared;
pub mod kics_json;
pub mod kube_bench_json;
pub mod kubescape_json;
pub mod nessus_csv;
pub mod nessus_xml;
pub mod nmap_xml;
pub mod npm_audit_json;
pub mod openvas_csv;
pub mod openvas_xml;
pub mod osv_scanner_json;
pub mod pip_audit_json;
pub mod prowler_ocsf_json;
pub mod prowler_v2_csv;
pub mod prowler_v2_json;
pub mod prowler_v3_json;
pub mod prowler_v4_csv;
pub mod qualys_csv;
pub mod qualys_xml;
pub(crate) mod report_shared;
pub mod sarif;
pub(crate) mod sca_shared;
pub mod scoutsuite_js;
pub mod snyk_json;
pub mod spdx_json;
pub(crate) mod spdx_shared;
pub mod spdx_tag_value;
pub mod tfsec_json;
pub mod trivy_json;
pub mod trivy_operator_json;
pub mod zap_json;
