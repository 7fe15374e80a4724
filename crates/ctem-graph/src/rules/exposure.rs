//! Rule: internet exposure.
//!
//! # Premises
//!
//! 1. `other:network:internet NetworkReach <security group>` (an ingress
//!    rule from `0.0.0.0/0` or `::/0`), and a member of the group
//!    (`<member> MemberOf <group>`) with a public address: a `public_ip`
//!    identifier or `internet_exposed == Some(true)`. A member without a
//!    public address is not reached, because the rule only admits what
//!    can be routed to it.
//! 2. `other:network:internet NetworkReach <target>` where the target is no
//!    zone: a public load balancer, a Kubernetes `LoadBalancer` or
//!    `NodePort` service, an ingress.
//! 3. `asset.internet_exposed == Some(true)` (a parser, the configuration,
//!    or inheritance from the host), unless premise 2 already explains the
//!    exposure of that asset.
//! 4. The asset `identity:aws:principal:*`: a trust policy names any AWS
//!    principal, which anyone with an AWS account controls.
//!
//! # Conclusion
//!
//! internet -> `NetworkAccess` of the member, the target or the exposed
//! asset; for an exposed repository, internet -> `Read` of it (its code is
//! public); internet -> `Control` of the any-principal identity. An exposed
//! container image gets `NetworkAccess`: the configuration marks an image
//! exposed when the containers that run it serve internet traffic, which
//! says nothing of whether its registry is public.
//!
//! # Technique, evidence, probability
//!
//! No technique for network exposure (the exploit that follows is T1190);
//! T1593.003 (Search Open Websites/Domains: Code Repositories) for public
//! repositories; T1078.004 (Valid Accounts: Cloud Accounts) for
//! the any-principal identity. Evidence `Configured`; probability
//! [`INTERNET_EXPOSURE`].
//!
//! # Fixes
//!
//! A configuration change on the security group ("remove the ingress rules
//! from 0.0.0.0/0 and ::/0 of security group web (tcp 443)") or on the
//! exposed asset ("make load balancer shop internal", "make repository
//! shop private"). The any-principal edge has no fix: the fix is on the
//! trust edge that follows it.
//!
//! The rule also marks which assets the internet reaches, directly or
//! through load balancers (`RoutesTo`) and hosts (`Hosts`), for the WAF
//! control and the choice between T1190 and T1210 of the exploit rule.

use ctem_model::RelationshipKind;
use foldhash::{HashMap, HashMapExt};

use super::context::{Adjacency, Context, INTERNET_ASSET, Role, Spec};
use super::probability::INTERNET_EXPOSURE;
use crate::{AssetId, Capability, EdgeKind, Evidence};

/// The identifier of the principal `*` of AWS trust policies.
const ANY_AWS_PRINCIPAL: &str = "identity:aws:principal:*";

const EXPOSURE: Spec = Spec {
    kind: EdgeKind::InternetExposure,
    technique: None,
    probability: INTERNET_EXPOSURE,
    evidence: Evidence::Configured,
};

pub fn apply(ctx: &mut Context<'_>) {
    let from_internet = rules_from_internet(ctx);
    let mut explained = vec![false; ctx.asset_count()];

    for (target, ports) in &from_internet {
        let target = *target;
        let ports = ports.join(", ");
        if ctx.role(target) == Role::Zone {
            let group = ctx.label(target).to_string();
            let change =
                format!("remove the ingress rules from 0.0.0.0/0 and ::/0 of security group {group} ({ports})");
            let members: Vec<AssetId> = ctx.members.get(target).to_vec();
            for member in members {
                if !ctx.is_public(member) || ctx.role(member) == Role::Zone {
                    continue;
                }
                let fix = ctx.configuration_fix(target, change.clone());
                ctx.edge(
                    (INTERNET_ASSET, Capability::Internet),
                    (member, Capability::NetworkAccess),
                    EXPOSURE,
                    vec![fix],
                );
                ctx.internet_reached[member as usize] = true;
            }
        } else {
            let change = exposure_change(ctx, target, &ports);
            let fix = ctx.configuration_fix(target, change);
            ctx.edge(
                (INTERNET_ASSET, Capability::Internet),
                (target, Capability::NetworkAccess),
                EXPOSURE,
                vec![fix],
            );
            explained[target as usize] = true;
            ctx.internet_reached[target as usize] = true;
        }
    }

    for asset in 1..ctx.asset_count() as AssetId {
        if explained[asset as usize] || !ctx.internet_exposed(asset) {
            continue;
        }
        let (capability, technique) = match ctx.role(asset) {
            Role::Internet | Role::Zone | Role::Identity | Role::Credential | Role::Pattern => continue,
            Role::Repository => (Capability::Read, Some("T1593.003")),
            _ => (Capability::NetworkAccess, None),
        };
        let change = exposure_change(ctx, asset, "");
        let fix = ctx.configuration_fix(asset, change);
        ctx.edge(
            (INTERNET_ASSET, Capability::Internet),
            (asset, capability),
            Spec { technique, ..EXPOSURE },
            vec![fix],
        );
        ctx.internet_reached[asset as usize] = true;
    }

    if let Some(anyone) = ctx.find_asset(ANY_AWS_PRINCIPAL) {
        ctx.edge(
            (INTERNET_ASSET, Capability::Internet),
            (anyone, Capability::Control),
            Spec {
                technique: Some("T1078.004"),
                ..EXPOSURE
            },
            Vec::new(),
        );
    }

    propagate_reach(ctx);
}

/// The targets of ingress rules from the internet, in input order, with
/// the ports of each (`tcp 22`, `all`, `tcp:1024-65535`).
fn rules_from_internet(ctx: &Context<'_>) -> Vec<(AssetId, Vec<String>)> {
    let mut targets: Vec<(AssetId, Vec<String>)> = Vec::new();
    let mut slots: HashMap<AssetId, usize> = HashMap::new();
    for link in ctx.links(RelationshipKind::NetworkReach) {
        if link.from != INTERNET_ASSET || link.to == INTERNET_ASSET {
            continue;
        }
        let relationship = &ctx.input.relationships[link.index as usize];
        let port = match (&relationship.protocol, relationship.port) {
            (Some(protocol), Some(port)) => format!("{protocol} {port}"),
            (Some(protocol), None) => protocol.clone(),
            (None, Some(port)) => format!("port {port}"),
            (None, None) => "all traffic".to_string(),
        };
        let slot = *slots.entry(link.to).or_insert_with(|| {
            targets.push((link.to, Vec::new()));
            targets.len() - 1
        });
        if !targets[slot].1.contains(&port) {
            targets[slot].1.push(port);
        }
    }
    targets
}

/// The configuration change that takes an asset off the internet.
fn exposure_change(ctx: &Context<'_>, asset: AssetId, ports: &str) -> String {
    let name = ctx.label(asset);
    let ports = if ports.is_empty() {
        String::new()
    } else {
        format!(" ({ports})")
    };
    match (
        ctx.role(asset),
        ctx.attribute(asset, "aws_type"),
        ctx.attribute(asset, "k8s_kind"),
    ) {
        (_, Some("load-balancer"), _) => format!("make load balancer {name} internal{ports}"),
        (_, Some("db-instance"), _) => format!("turn off PubliclyAccessible on database {name}"),
        (_, _, Some("Ingress")) => format!("restrict ingress {name} to internal clients{ports}"),
        (_, _, Some("Service")) => {
            format!("change service {name} to type ClusterIP or an internal load balancer{ports}")
        }
        (Role::Repository, _, _) => format!("make repository {name} private"),
        (Role::Image, _, _) => format!("stop serving internet traffic from containers of image {name}"),
        _ => format!("remove the internet exposure of {name}{ports}"),
    }
}

/// Marks what the internet reaches through load balancers and hosts.
fn propagate_reach(ctx: &mut Context<'_>) {
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for kind in [RelationshipKind::RoutesTo, RelationshipKind::Hosts] {
        pairs.extend(ctx.links(kind).iter().map(|link| (link.from, link.to)));
    }
    let next = Adjacency::new(ctx.asset_count(), &pairs);
    let mut queue: Vec<AssetId> = (0..ctx.asset_count() as AssetId)
        .filter(|&asset| ctx.internet_reached[asset as usize])
        .collect();
    while let Some(asset) = queue.pop() {
        for &target in next.get(asset) {
            if !ctx.internet_reached[target as usize] {
                ctx.internet_reached[target as usize] = true;
                queue.push(target);
            }
        }
    }
}
