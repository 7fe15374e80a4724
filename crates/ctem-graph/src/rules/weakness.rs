//! How a finding can be exploited, read from its kind and CVSS vectors.
//!
//! - A vector with `AV:N` makes the finding remotely exploitable, one with
//!   `AV:L` locally exploitable (privilege escalation). `AV:A` (adjacent
//!   network) and `AV:P` (physical) give no edge.
//! - A vector without integrity impact (`I:N` in v3, `I:N` in v2, `VI:N` in
//!   v4) gives no edge: an information leak or a denial of service is no
//!   code execution.
//! - The exploit yields root when the vector shows a compromise beyond the
//!   vulnerable component. In v3 that is a changed scope with high
//!   confidentiality and integrity impact (`S:C/C:H/I:H`). In v2 it is
//!   complete impact (`C:C/I:C/A:C`), which the v2 specification defines as
//!   total compromise of the system. In v4 it is high impact on subsequent
//!   systems (`SC:H/SI:H`). Otherwise the exploit yields the privileges of
//!   the vulnerable service, taken as an unprivileged user.
//! - When several vectors are given, a remote one wins over a local one,
//!   and the easiest vector of the winning access sets the ease.
//! - Without a vector: a `WebWeakness` (found by a DAST scanner over the
//!   network) is remote, and so is a `Vulnerability` or `ExposedService`
//!   with a CVE that a network scanner found on a port (`location.port`).
//!   Other findings without a vector give no edge.
//! - Only `Vulnerability`, `WebWeakness` and `ExposedService` findings are
//!   exploits. Findings that the report marks not affected, fixed, false
//!   positive or suppressed give no edge.

use ctem_model::{Finding, FindingKind, SourceStatus, VulnerabilityId};

use super::probability::DEFAULT_EASE;

/// The attack vector of a weakness: over the network or as a local user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Network,
    Local,
}

/// An exploitable weakness.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weakness {
    pub access: Access,
    /// Whether exploiting it yields root rather than user privileges.
    pub root: bool,
    /// Ease of exploitation from 0.0 to 1.0.
    pub ease: f64,
}

/// Returns whether the report marks the finding not affected, fixed, a false
/// positive or suppressed.
pub fn is_closed(finding: &Finding) -> bool {
    matches!(
        finding.source_status,
        Some(SourceStatus::NotAffected | SourceStatus::Fixed | SourceStatus::FalsePositive | SourceStatus::Suppressed)
    )
}

/// Reads how a finding can be exploited, or `None` when it gives no edge.
pub fn classify(finding: &Finding) -> Option<Weakness> {
    if is_closed(finding) {
        return None;
    }
    if !matches!(
        finding.kind,
        FindingKind::Vulnerability | FindingKind::WebWeakness | FindingKind::ExposedService
    ) {
        return None;
    }
    if finding.cvss.is_empty() {
        return without_vector(finding);
    }

    let mut best: Option<Weakness> = None;
    for vector in &finding.cvss {
        let text = vector.to_string();
        let Some(weakness) = read_vector(&text, vector.exploitability()) else {
            continue;
        };
        best = Some(match best {
            None => weakness,
            Some(known) => better(known, weakness),
        });
    }
    best
}

fn without_vector(finding: &Finding) -> Option<Weakness> {
    let has_cve = finding
        .vulnerability_ids
        .iter()
        .any(|id| matches!(id, VulnerabilityId::Cve(_)));
    let remote = match finding.kind {
        FindingKind::WebWeakness => true,
        FindingKind::Vulnerability | FindingKind::ExposedService => has_cve && finding.location.port.is_some(),
        _ => false,
    };
    remote.then_some(Weakness {
        access: Access::Network,
        root: false,
        ease: DEFAULT_EASE,
    })
}

/// Returns the better of two readings of one finding: network access
/// first, then root, then ease.
fn better(a: Weakness, b: Weakness) -> Weakness {
    let rank = |w: &Weakness| (w.access == Access::Network, w.root);
    match rank(&a).cmp(&rank(&b)) {
        std::cmp::Ordering::Less => b,
        std::cmp::Ordering::Greater => a,
        std::cmp::Ordering::Equal if b.ease > a.ease => b,
        std::cmp::Ordering::Equal => a,
    }
}

/// Reads one vector's text (`CVSS:3.1/AV:N/...`, `AV:N/AC:L/Au:N/...` for
/// v2, `CVSS:4.0/...`).
fn read_vector(text: &str, ease: f64) -> Option<Weakness> {
    let metric = |name: &str| {
        text.split('/')
            .filter_map(|part| part.split_once(':'))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    };
    let access = match metric("AV")? {
        "N" => Access::Network,
        "L" => Access::Local,
        _ => return None,
    };
    let v4 = text.starts_with("CVSS:4");
    let integrity = if v4 { metric("VI") } else { metric("I") };
    if matches!(integrity, None | Some("N")) {
        return None;
    }
    let root = if v4 {
        metric("SC") == Some("H") && metric("SI") == Some("H")
    } else if text.starts_with("CVSS:3") {
        metric("S") == Some("C") && metric("C") == Some("H") && metric("I") == Some("H")
    } else {
        metric("C") == Some("C") && metric("I") == Some("C") && metric("A") == Some("C")
    };
    Some(Weakness { access, root, ease })
}

#[cfg(test)]
mod tests {
    use ctem_model::{AssetKey, AssetKind, CveId, Severity};

    use super::*;

    fn finding(kind: FindingKind, vectors: &[&str]) -> Finding {
        let mut finding = Finding::new(
            "test",
            "rule",
            kind,
            "title",
            Severity::High,
            AssetKey::new(AssetKind::Host, "10.0.0.1"),
        );
        for vector in vectors {
            finding.add_cvss(vector.parse().unwrap());
        }
        finding
    }

    #[test]
    fn network_vector_is_remote_user() {
        let weakness = classify(&finding(
            FindingKind::Vulnerability,
            &["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
        ))
        .unwrap();
        assert_eq!(weakness.access, Access::Network);
        assert!(!weakness.root);
        assert!(weakness.ease > 0.99);
    }

    #[test]
    fn scope_change_is_root() {
        let weakness = classify(&finding(
            FindingKind::Vulnerability,
            &["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"],
        ))
        .unwrap();
        assert!(weakness.root);
    }

    #[test]
    fn v2_complete_impact_is_root() {
        let weakness = classify(&finding(FindingKind::Vulnerability, &["AV:N/AC:L/Au:N/C:C/I:C/A:C"])).unwrap();
        assert!(weakness.root);
        let partial = classify(&finding(FindingKind::Vulnerability, &["AV:N/AC:L/Au:N/C:P/I:P/A:P"])).unwrap();
        assert!(!partial.root);
    }

    #[test]
    fn v4_subsequent_impact_is_root() {
        let weakness = classify(&finding(
            FindingKind::Vulnerability,
            &["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"],
        ))
        .unwrap();
        assert!(weakness.root);
        assert_eq!(weakness.access, Access::Network);
    }

    #[test]
    fn local_vector_is_local() {
        let weakness = classify(&finding(
            FindingKind::Vulnerability,
            &["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"],
        ))
        .unwrap();
        assert_eq!(weakness.access, Access::Local);
    }

    #[test]
    fn no_integrity_impact_gives_nothing() {
        let leak = finding(
            FindingKind::Vulnerability,
            &["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"],
        );
        assert_eq!(classify(&leak), None);
    }

    #[test]
    fn adjacent_and_physical_give_nothing() {
        for vector in [
            "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ] {
            assert_eq!(
                classify(&finding(FindingKind::Vulnerability, &[vector])),
                None,
                "{vector}"
            );
        }
    }

    #[test]
    fn remote_wins_over_local() {
        let weakness = classify(&finding(
            FindingKind::Vulnerability,
            &[
                "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
            ],
        ))
        .unwrap();
        assert_eq!(weakness.access, Access::Network);
        assert!(!weakness.root);
    }

    #[test]
    fn web_weakness_without_vector_is_remote() {
        let weakness = classify(&finding(FindingKind::WebWeakness, &[])).unwrap();
        assert_eq!(weakness.access, Access::Network);
        assert_eq!(weakness.ease, DEFAULT_EASE);
    }

    #[test]
    fn port_scan_cve_without_vector_is_remote() {
        let mut exposed = finding(FindingKind::ExposedService, &[]);
        assert_eq!(classify(&exposed), None);
        exposed.add_vulnerability_id(VulnerabilityId::Cve("CVE-2021-44228".parse::<CveId>().unwrap()));
        assert_eq!(classify(&exposed), None, "no port");
        exposed.location.port = Some(443);
        assert_eq!(classify(&exposed).unwrap().access, Access::Network);
    }

    #[test]
    fn other_kinds_give_nothing() {
        for kind in [
            FindingKind::CodeWeakness,
            FindingKind::Misconfiguration,
            FindingKind::Secret,
            FindingKind::License,
        ] {
            let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
            assert_eq!(classify(&finding(kind, &[vector])), None, "{kind:?}");
        }
    }

    #[test]
    fn closed_finding_gives_nothing() {
        let mut fixed = finding(
            FindingKind::Vulnerability,
            &["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
        );
        fixed.source_status = Some(SourceStatus::NotAffected);
        assert_eq!(classify(&fixed), None);
    }
}
