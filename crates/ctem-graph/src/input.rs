//! What the rules read: the resolved inventory, the open findings, the
//! exploitation signals that threat intelligence gave each finding, and the
//! compensating controls of the configuration.
//!
//! The engine fills these from the inventory, the findings and the loaded
//! intelligence; the generator fills them for tests and benchmarks. Nothing
//! here reads a file.

use ctem_model::{Asset, Finding, Relationship};
use serde::{Deserialize, Serialize};

/// What threat intelligence says about exploiting one finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ExploitSignals {
    /// A CVE of the finding is in CISA KEV (exploited in the wild).
    pub kev: bool,
    /// The highest FIRST EPSS probability among its CVEs.
    pub epss: Option<f64>,
}

/// One open finding with its signals.
#[derive(Debug, Clone, Copy)]
pub struct GraphFinding<'a> {
    pub finding: &'a Finding,
    /// The fingerprint of the finding, which fixes name.
    pub fingerprint: &'a str,
    pub signals: ExploitSignals,
}

/// Compensating controls from the configuration, as factors that multiply
/// the success probability of the edges they address. 1.0 is no control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Controls {
    /// A web application firewall in front of internet-exposed services:
    /// lowers exploits of web services reached from the internet.
    pub waf: f64,
    /// Network segmentation beyond security groups: lowers lateral network
    /// reach between hosts.
    pub segmentation: f64,
    /// Endpoint detection and response on hosts: lowers privilege
    /// escalation and credential access on hosts.
    pub edr: f64,
    /// Multi-factor authentication: lowers the use of stolen credentials.
    pub mfa: f64,
}

impl Default for Controls {
    fn default() -> Self {
        Controls {
            waf: 1.0,
            segmentation: 1.0,
            edr: 1.0,
            mfa: 1.0,
        }
    }
}

/// Everything the rules derive the attack graph from.
#[derive(Debug, Clone, Copy)]
pub struct GraphInput<'a> {
    pub assets: &'a [Asset],
    pub relationships: &'a [Relationship],
    pub findings: &'a [GraphFinding<'a>],
    pub controls: &'a Controls,
}
