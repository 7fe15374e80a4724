//! Rule: local privilege escalation.
//!
//! # Premises
//!
//! A finding that [`classify`](super::weakness::classify) reads as locally exploitable
//! (`AV:L` with integrity impact), and code execution as a user where the
//! vulnerable code runs. The exploit rule's `Sites` finds those places: the
//! host, the workloads that run the image, the runners of the images that a
//! repository builds.
//!
//! # Conclusion
//!
//! `ExecuteUser` of the place -> `ExecuteRoot` of the place.
//!
//! # Technique, evidence, probability
//!
//! T1068 (Exploitation for Privilege Escalation). Evidence `Observed`.
//! Probability [`probability::exploit`] of the CVSS ease and the KEV and
//! EPSS signals, times the EDR control.
//!
//! # Fixes
//!
//! The finding, by fingerprint.

use super::context::{Context, Spec};
use super::exploit::Sites;
use super::probability;
use super::weakness::{Access, Weakness};
use crate::{Capability, EdgeKind, Evidence, FixRef};

/// Adds the edges of the rule; `weaknesses` has the reading of each
/// finding of the input, by index.
pub fn apply(ctx: &mut Context<'_>, sites: &Sites, weaknesses: &[Option<Weakness>]) {
    let mut places = Vec::new();
    let mut targets = Vec::new();
    for (index, weakness) in weaknesses.iter().enumerate() {
        let Some(weakness) = *weakness else {
            continue;
        };
        let graph_finding = ctx.input.findings[index];
        let finding = graph_finding.finding;
        if weakness.access != Access::Local {
            continue;
        }
        let Some(asset) = ctx.find_asset(finding.asset.as_str()) else {
            continue;
        };
        sites.collect(ctx, asset, None, &mut places);

        let probability = probability::with_control(
            probability::exploit(weakness.ease, graph_finding.signals),
            ctx.input.controls.edr,
        );
        let spec = Spec {
            kind: EdgeKind::PrivilegeEscalation,
            technique: Some("T1068"),
            probability,
            evidence: Evidence::Observed,
        };
        // Several entries (services) may lead to one place; escalate once per place.
        targets.clear();
        targets.extend(places.iter().map(|&(_, place)| place));
        targets.sort_unstable();
        targets.dedup();
        for &place in &targets {
            let fix = FixRef::Finding {
                fingerprint: graph_finding.fingerprint.to_string(),
            };
            ctx.edge(
                (place, Capability::ExecuteUser),
                (place, Capability::ExecuteRoot),
                spec,
                vec![fix],
            );
        }
    }
}
