//! One parser per file. Each file opens with the same sections: what it
//! reads, how fields map, what the fingerprint is made of, what it does not
//! read yet, and where the format is specified.

pub mod aws_cli_json;
pub mod ctem_json;
pub mod cyclonedx_json;
pub mod cyclonedx_xml;
pub mod gitleaks_json;
pub mod grype_json;
pub mod kubernetes_yaml;
pub(crate) mod inventory_shared;
pub mod nessus_xml;
pub mod nmap_xml;
pub mod npm_audit_json;
pub mod osv_scanner_json;
pub mod pip_audit_json;
pub mod sarif;
pub(crate) mod sca_shared;
pub mod spdx_json;
pub(crate) mod spdx_shared;
pub mod spdx_tag_value;
pub mod trivy_json;
pub mod zap_json;
