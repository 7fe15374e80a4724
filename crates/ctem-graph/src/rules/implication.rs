//! Rules: one asset known twice, and stronger capabilities that include
//! weaker ones.
//!
//! # Same machine
//!
//! - Premises: a `host` asset of a host scanner (`host:<ip>`, with `ip`
//!   identifiers) and exactly one cloud instance with the same `ip`
//!   identifier (the AWS export gives the private and public addresses of
//!   each instance). Host scanners and cloud exports key one machine
//!   differently, and the inventory does not merge them.
//! - Conclusion: `NetworkAccess`, `ExecuteUser` and `ExecuteRoot` of either
//!   -> the same capability of the other, where either has the node (kind
//!   `Implies`, probability [`STRUCTURAL`], evidence `Configured`, no fix).
//! - An address that two instances share (private ranges reused across
//!   VPCs) joins nothing.
//!
//! # Implications on one asset
//!
//! Kind `Implies`, probability [`STRUCTURAL`], evidence `Configured`, no
//! fix, added for every node the other rules created:
//!
//! - `ExecuteRoot` -> `ExecuteUser`.
//! - `Write` -> `Control` of an identity (a policy write such as
//!   `iam:PutRolePolicy` or `iam:UpdateAssumeRolePolicy` makes the writer
//!   its master), of a repository or of an image (push access).
//! - `Control` -> `Read` of a repository or an image (who can push can
//!   clone or pull).
//! - `Read` -> `Control` of a credential (reading a secret is holding it).
//! - `Write` does not imply `Read` of a data store or bucket: write-only
//!   permissions exist (`s3:PutObject` for a log sink), and the IAM parser
//!   gives both edges when a policy grants both.

use ctem_model::AssetKind;
use foldhash::{HashMap, HashMapExt};

use super::context::{Context, Role, Spec};
use super::probability::STRUCTURAL;
use crate::{AssetId, Capability, EdgeKind, Evidence};

const IMPLIES: Spec = Spec {
    kind: EdgeKind::Implies,
    technique: None,
    probability: STRUCTURAL,
    evidence: Evidence::Configured,
};

pub fn apply(ctx: &mut Context<'_>) {
    same_machine(ctx);
    on_one_asset(ctx);
}

fn same_machine(ctx: &mut Context<'_>) {
    let pairs = machine_pairs(ctx);
    for (host, instance) in pairs {
        for capability in [
            Capability::NetworkAccess,
            Capability::ExecuteUser,
            Capability::ExecuteRoot,
        ] {
            if !ctx.has_node(host, capability) && !ctx.has_node(instance, capability) {
                continue;
            }
            ctx.edge((host, capability), (instance, capability), IMPLIES, Vec::new());
            ctx.edge((instance, capability), (host, capability), IMPLIES, Vec::new());
        }
    }
}

/// The (host, instance) pairs that name one machine.
fn machine_pairs(ctx: &Context<'_>) -> Vec<(AssetId, AssetId)> {
    /// The instance of an address, or none when several share it.
    const SHARED: AssetId = AssetId::MAX;
    let mut instances: HashMap<&str, AssetId> = HashMap::new();
    for asset in 1..ctx.asset_count() as AssetId {
        if ctx.role(asset) != Role::Executable || ctx.info(asset).kind != AssetKind::CloudResource {
            continue;
        }
        for ip in ctx.identifiers(asset, "ip") {
            instances
                .entry(ip)
                .and_modify(|known| {
                    if *known != asset {
                        *known = SHARED;
                    }
                })
                .or_insert(asset);
        }
    }
    if instances.is_empty() {
        return Vec::new();
    }

    let mut pairs = Vec::new();
    for asset in 1..ctx.asset_count() as AssetId {
        if ctx.info(asset).kind != AssetKind::Host {
            continue;
        }
        let key_address = ctx.info(asset).key.identifier();
        let addresses = std::iter::once(key_address).chain(ctx.identifiers(asset, "ip"));
        for address in addresses {
            if let Some(&instance) = instances.get(address)
                && instance != SHARED
            {
                pairs.push((asset, instance));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

fn on_one_asset(ctx: &mut Context<'_>) {
    for asset in 1..ctx.asset_count() as AssetId {
        let role = ctx.role(asset);
        let pushable = matches!(role, Role::Repository | Role::Image);
        if (pushable || role == Role::Identity) && ctx.has_node(asset, Capability::Write) {
            ctx.edge(
                (asset, Capability::Write),
                (asset, Capability::Control),
                IMPLIES,
                Vec::new(),
            );
        }
        if pushable && ctx.has_node(asset, Capability::Control) {
            ctx.edge(
                (asset, Capability::Control),
                (asset, Capability::Read),
                IMPLIES,
                Vec::new(),
            );
        }
        if role == Role::Credential && ctx.has_node(asset, Capability::Read) {
            ctx.edge(
                (asset, Capability::Read),
                (asset, Capability::Control),
                IMPLIES,
                Vec::new(),
            );
        }
        if ctx.has_node(asset, Capability::ExecuteRoot) {
            ctx.edge(
                (asset, Capability::ExecuteRoot),
                (asset, Capability::ExecuteUser),
                IMPLIES,
                Vec::new(),
            );
        }
    }
}
