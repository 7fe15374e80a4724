//! Compensating controls that the configuration declares.

use serde::{Deserialize, Serialize};

/// Compensating controls of the environment, each a factor in (0, 1]. 1.0
/// means no such control. The attack graph multiplies the success
/// probability of the attack steps a control hinders, and the risk model
/// the likelihood of the findings whose exploitation it hinders.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
