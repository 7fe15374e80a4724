//! Rules: repositories build images, images run in workloads, workloads
//! run on nodes.
//!
//! # Builds
//!
//! - Premises: `<repository> Builds <image>` or `<repository> Deploys
//!   <image or workload>`, and `Control` of the repository (push access).
//! - Conclusion: `Control` of the image, or `ExecuteUser` of the deployed
//!   workload or host (kind `Builds`).
//! - Technique T1195.002 (Compromise Software Supply Chain); probability
//!   [`SUPPLY_CHAIN`]; evidence `Configured`; no fix.
//!
//! # Image in a workload
//!
//! - Premises: `<workload> RunsOn <image>`. `Control` of the image ->
//!   `ExecuteUser` of the workload (kind `RunsOn`, T1525 Implant Internal
//!   Image, probability [`SUPPLY_CHAIN`]); `ExecuteUser` of the workload ->
//!   `Read` of the image, whose files are there (probability
//!   [`STRUCTURAL`]). Evidence `Configured`; no fix.
//!
//! # Workload on a node
//!
//! - Premises: `<workload> RunsOn <host>` or `<host> Hosts <workload>`.
//!   `ExecuteRoot` of the host -> `ExecuteRoot` of the workload (kind
//!   `RunsOn`, probability [`STRUCTURAL`], evidence `Configured`).
//! - Escape: with an open `k8s-privileged-container` or
//!   `k8s-host-path-node` finding on the workload, `ExecuteRoot` of the
//!   workload -> `ExecuteRoot` of the host (kind `RunsOn`, T1611 Escape to
//!   Host, probability [`CONTAINER_ESCAPE`] times the EDR control,
//!   evidence `Observed`, fix: the finding). Without such a finding a
//!   container is taken as isolated from its node.
//! - Root in the container: with an open `k8s-run-as-root` finding,
//!   `ExecuteUser` of the workload -> `ExecuteRoot` of it (kind
//!   `PrivilegeEscalation`, probability [`STRUCTURAL`] because the code
//!   already runs as root, evidence `Observed`, fix: the finding).

use ctem_model::{FindingKind, RelationshipKind};

use super::context::{Context, Role, Spec};
use super::probability::{self, CONTAINER_ESCAPE, STRUCTURAL, SUPPLY_CHAIN};
use super::weakness;
use crate::{AssetId, Capability, EdgeKind, Evidence, FixRef};

const ESCAPE_RULES: &[&str] = &["k8s-privileged-container", "k8s-host-path-node"];
const RUN_AS_ROOT_RULE: &str = "k8s-run-as-root";

const CONFIGURED: Spec = Spec {
    kind: EdgeKind::RunsOn,
    technique: None,
    probability: STRUCTURAL,
    evidence: Evidence::Configured,
};

pub fn apply(ctx: &mut Context<'_>) {
    builds(ctx);
    run_on(ctx);
    run_as_root(ctx);
}

fn builds(ctx: &mut Context<'_>) {
    let spec = Spec {
        kind: EdgeKind::Builds,
        technique: Some("T1195.002"),
        probability: SUPPLY_CHAIN,
        evidence: Evidence::Configured,
    };
    for kind in [RelationshipKind::Builds, RelationshipKind::Deploys] {
        let links = ctx.take_links(kind);
        for link in &links {
            if ctx.role(link.from) != Role::Repository {
                continue;
            }
            let gained = match ctx.role(link.to) {
                Role::Image => Capability::Control,
                Role::Executable => Capability::ExecuteUser,
                _ => continue,
            };
            ctx.edge((link.from, Capability::Control), (link.to, gained), spec, Vec::new());
        }
        ctx.put_links(kind, links);
    }
}

fn run_on(ctx: &mut Context<'_>) {
    let implant = Spec {
        technique: Some("T1525"),
        probability: SUPPLY_CHAIN,
        ..CONFIGURED
    };
    let mut placements: Vec<(AssetId, AssetId)> = Vec::new();
    let links = ctx.take_links(RelationshipKind::RunsOn);
    for link in &links {
        let (workload, under) = (link.from, link.to);
        if ctx.role(workload) != Role::Executable {
            continue;
        }
        match ctx.role(under) {
            Role::Image => {
                ctx.edge(
                    (under, Capability::Control),
                    (workload, Capability::ExecuteUser),
                    implant,
                    Vec::new(),
                );
                ctx.edge(
                    (workload, Capability::ExecuteUser),
                    (under, Capability::Read),
                    CONFIGURED,
                    Vec::new(),
                );
            }
            Role::Executable => placements.push((workload, under)),
            _ => {}
        }
    }
    ctx.put_links(RelationshipKind::RunsOn, links);
    for link in ctx.links(RelationshipKind::Hosts) {
        if ctx.role(link.from) == Role::Executable && ctx.role(link.to) == Role::Executable {
            placements.push((link.to, link.from));
        }
    }
    placements.sort_unstable();
    placements.dedup();

    let escape = Spec {
        technique: Some("T1611"),
        probability: probability::with_control(CONTAINER_ESCAPE, ctx.input.controls.edr),
        evidence: Evidence::Observed,
        ..CONFIGURED
    };
    for (workload, host) in placements {
        if workload == host {
            continue;
        }
        ctx.edge(
            (host, Capability::ExecuteRoot),
            (workload, Capability::ExecuteRoot),
            CONFIGURED,
            Vec::new(),
        );
        for fingerprint in open_findings(ctx, workload, ESCAPE_RULES) {
            let fix = FixRef::Finding { fingerprint };
            ctx.edge(
                (workload, Capability::ExecuteRoot),
                (host, Capability::ExecuteRoot),
                escape,
                vec![fix],
            );
        }
    }
}

fn run_as_root(ctx: &mut Context<'_>) {
    let spec = Spec {
        kind: EdgeKind::PrivilegeEscalation,
        technique: None,
        probability: STRUCTURAL,
        evidence: Evidence::Observed,
    };
    for workload in 1..ctx.asset_count() as AssetId {
        if ctx.role(workload) != Role::Executable {
            continue;
        }
        for fingerprint in open_findings(ctx, workload, &[RUN_AS_ROOT_RULE]) {
            let fix = FixRef::Finding { fingerprint };
            ctx.edge(
                (workload, Capability::ExecuteUser),
                (workload, Capability::ExecuteRoot),
                spec,
                vec![fix],
            );
        }
    }
}

/// Returns the fingerprints of the open misconfiguration findings of an asset with
/// one of the given rule ids.
fn open_findings(ctx: &Context<'_>, asset: AssetId, rules: &[&str]) -> Vec<String> {
    ctx.findings
        .get(asset)
        .iter()
        .map(|&index| ctx.input.findings[index as usize])
        .filter(|finding| {
            finding.finding.kind == FindingKind::Misconfiguration
                && !weakness::is_closed(finding.finding)
                && rules.contains(&finding.finding.rule_id.as_str())
        })
        .map(|finding| finding.fingerprint.to_string())
        .collect()
}
