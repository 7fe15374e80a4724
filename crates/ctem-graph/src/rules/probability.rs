//! The success probability of each edge: constants for what configuration
//! and permissions allow, and a formula for exploits from the finding's CVSS
//! vectors and its threat intelligence (CISA KEV, FIRST EPSS).
//!
//! Every probability lies in (0, 1]. The compensating controls of
//! [`Controls`](crate::Controls) multiply the edges they address, and the
//! product never falls below [`FLOOR`], so that a strong control makes an
//! edge unlikely without removing it: removing edges is what fixes do.

use crate::ExploitSignals;

/// Edges that hold by definition: a stronger capability includes a weaker
/// one, a zone admits its members, a load balancer forwards to its targets.
pub const STRUCTURAL: f32 = 1.0;

/// The internet finds a service that the configuration exposes. Internet-wide
/// scanners sweep the IPv4 space in hours, so an exposed service is found
/// almost surely; 0.9 leaves room for ports that the scanners skip.
pub const INTERNET_EXPOSURE: f32 = 0.9;

/// A network rule or reach relationship between zones lets traffic through.
/// Slightly below 1 because the rules read are ingress rules only (egress
/// rules and network ACLs may still block the traffic).
pub const CONFIGURED_REACH: f32 = 0.95;

/// A permission or trust policy allows the action. Below 1 because `Deny`
/// statements, conditions and permission boundaries are not evaluated.
pub const PERMITTED: f32 = 0.95;

/// Code on an instance or in a workload reads the credentials of its role
/// (instance metadata, the mounted service account token).
pub const INSTANCE_ROLE: f32 = 0.9;

/// The same, when the instance's metadata endpoint is disabled
/// (`metadata_http_endpoint = disabled`): the attacker must turn it back on.
pub const INSTANCE_ROLE_METADATA_DISABLED: f32 = 0.1;

/// Code on a host finds a credential stored there, or a reader of a
/// repository or image finds a secret in it.
pub const CREDENTIAL_ACCESS: f32 = 0.8;

/// A stolen credential still works: it may have been rotated, or be bound
/// to a network or a device.
pub const USE_CREDENTIAL: f32 = 0.85;

/// A change pushed to a repository or an image reaches what runs it:
/// reviews and build pipelines may stop it.
pub const SUPPLY_CHAIN: f32 = 0.7;

/// Code in a privileged container or one with the node's file system
/// mounted escapes to the node.
pub const CONTAINER_ESCAPE: f32 = 0.8;

/// The ease of exploitation assumed for a finding without a CVSS vector
/// (a DAST result, a scanner result with a CVE but no vector).
pub const DEFAULT_EASE: f64 = 0.6;

/// The smallest probability an edge gets, whatever its controls.
pub const FLOOR: f32 = 0.001;

/// The factor that threat intelligence gives an exploit: 1.0 for a
/// vulnerability in CISA KEV (exploited in the wild), else
/// `0.3 + 0.7 * sqrt(epss)` with FIRST EPSS (the square root lifts the
/// many small EPSS values, which predict activity within 30 days rather
/// than success once an attacker tries), else 0.5 without any signal.
pub fn threat_factor(signals: ExploitSignals) -> f64 {
    if signals.kev {
        return 1.0;
    }
    match signals.epss {
        Some(epss) => 0.3 + 0.7 * epss.clamp(0.0, 1.0).sqrt(),
        None => 0.5,
    }
}

/// The probability of an exploit or a privilege escalation: the ease of
/// exploitation from CVSS (`CvssVector::exploitability`, which weighs the
/// attack vector, attack complexity, privileges and user interaction)
/// times the [`threat_factor`], capped at 0.99 because no exploit is
/// certain.
pub fn exploit(ease: f64, signals: ExploitSignals) -> f32 {
    let value = ease.clamp(0.0, 1.0) * threat_factor(signals);
    clamp(value.min(0.99) as f32)
}

/// A probability multiplied by a control's factor (1.0 is no control).
pub fn with_control(probability: f32, factor: f64) -> f32 {
    clamp(probability * factor.clamp(0.0, 1.0) as f32)
}

fn clamp(value: f32) -> f32 {
    if value.is_nan() {
        return FLOOR;
    }
    value.clamp(FLOOR, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(kev: bool, epss: Option<f64>) -> ExploitSignals {
        ExploitSignals { kev, epss }
    }

    #[test]
    fn kev_gives_full_threat() {
        assert_eq!(threat_factor(signals(true, Some(0.01))), 1.0);
    }

    #[test]
    fn epss_lifts_threat() {
        assert!((threat_factor(signals(false, Some(0.0))) - 0.3).abs() < 1e-12);
        assert!((threat_factor(signals(false, Some(0.25))) - 0.65).abs() < 1e-12);
        assert!((threat_factor(signals(false, Some(1.0))) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn no_signal_is_half() {
        assert_eq!(threat_factor(signals(false, None)), 0.5);
    }

    #[test]
    fn exploit_multiplies_ease() {
        assert!((exploit(0.8, signals(false, Some(0.25))) - 0.52).abs() < 1e-6);
        assert!((exploit(0.5, signals(false, None)) - 0.25).abs() < 1e-6);
    }

    #[test]
    fn exploit_caps_below_one() {
        assert!((exploit(1.0, signals(true, None)) - 0.99).abs() < 1e-6);
    }

    #[test]
    fn exploit_never_zero() {
        assert_eq!(exploit(0.0, signals(false, None)), FLOOR);
    }

    #[test]
    fn control_multiplies() {
        assert!((with_control(0.8, 0.5) - 0.4).abs() < 1e-6);
        assert_eq!(with_control(0.8, 1.0), 0.8);
    }

    #[test]
    fn control_keeps_floor() {
        assert_eq!(with_control(0.8, 0.0), FLOOR);
        assert_eq!(with_control(0.8, -3.0), FLOOR);
        assert_eq!(with_control(0.8, 7.0), 0.8);
    }
}
