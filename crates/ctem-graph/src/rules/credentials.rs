//! Rules: instance roles, stored credentials, leaked secrets and their use.
//!
//! # Instance role
//!
//! - Premises: `<runner> CanAssume <identity>` where the runner runs code
//!   (an instance and its instance profile, a function and its role, a
//!   Kubernetes workload and its service account), and `ExecuteUser` of
//!   the runner.
//! - Conclusion: `Control` of the identity (kind `InstanceRole`).
//! - Technique: T1552.005 (Cloud Instance Metadata API) for instances and
//!   functions, T1528 (Steal Application Access Token) for workloads.
//! - Probability: [`INSTANCE_ROLE`], or [`INSTANCE_ROLE_METADATA_DISABLED`]
//!   for an instance with `metadata_http_endpoint = disabled`, times the
//!   EDR control. Evidence `Configured`.
//! - Fix: a configuration change on the runner ("detach the instance
//!   profile from web-1", "set automountServiceAccountToken: false on
//!   shop/Deployment/web").
//!
//! # Stored credential
//!
//! - Premises: `<holder> HasCredential <credential>` and `ExecuteUser` of a
//!   holder that runs code (a workload and the Secrets its pods mount), or
//!   `Read` of a holder repository or image.
//! - Conclusion: `Control` of the credential (kind `CredentialAccess`).
//! - Technique T1552.001 (Unsecured Credentials: Credentials In Files);
//!   probability [`CREDENTIAL_ACCESS`] times the EDR control for holders
//!   that run code; evidence `Configured`; no fix.
//!
//! # Leaked secret
//!
//! - Premises: a `Secret` finding on an asset, and `ExecuteUser` of the
//!   asset when it runs code, else `Read` of it (a repository, an image, a
//!   data store, a bucket).
//! - Conclusion: `Control` of the leaked credential: each `credential`
//!   asset with the identifier `secret_sha256` equal to
//!   `finding.secret.sha256`; when none has it, a credential asset that
//!   the graph adds, keyed `credential:secret:<sha256>` (or
//!   `credential:finding:<fingerprint>` when the report had no clear value
//!   to hash), so that the leak still counts in blast radii.
//! - Technique T1552.001; probability [`CREDENTIAL_ACCESS`] (times EDR on
//!   hosts); evidence `Observed`; fix: the finding, by fingerprint.
//!
//! # Use of a credential
//!
//! - Premises: `<identity> HasCredential <credential>` (the credential
//!   authenticates as the identity, such as a service account token) or
//!   `<data store> HasCredential <credential>` (a login of the data
//!   store), and `Control` of the credential.
//! - Conclusion: `Control` of the identity, or `Read` and `Write` of the
//!   data store (kind `UseCredential`).
//! - Technique T1078 (Valid Accounts); probability [`USE_CREDENTIAL`]
//!   times the MFA control; evidence `Configured`; fix: rotate the
//!   credential (a configuration change on it).
//!
//! What a credential opens as a principal (`<credential> CanAssume|CanRead|
//! CanWrite <resource>`) is the permission rule's.

use ctem_model::{AssetKey, AssetKind, FindingKind, RelationshipKind};
use foldhash::{HashMap, HashMapExt};

use super::context::{Context, Role, Spec};
use super::probability::{self, CREDENTIAL_ACCESS, INSTANCE_ROLE, INSTANCE_ROLE_METADATA_DISABLED, USE_CREDENTIAL};
use super::weakness;
use crate::{AssetId, AssetInfo, Capability, EdgeKind, Evidence, FixRef};

pub fn apply(ctx: &mut Context<'_>) {
    instance_roles(ctx);
    stored_credentials(ctx);
    leaked_secrets(ctx);
}

fn instance_roles(ctx: &mut Context<'_>) {
    let links = ctx.take_links(RelationshipKind::CanAssume);
    for link in &links {
        let (runner, identity) = (link.from, link.to);
        if ctx.role(runner) != Role::Executable || !matches!(ctx.role(identity), Role::Identity | Role::Pattern) {
            continue;
        }
        let workload = ctx.info(runner).kind == AssetKind::KubernetesWorkload;
        let base = if ctx.attribute(runner, "metadata_http_endpoint") == Some("disabled") {
            INSTANCE_ROLE_METADATA_DISABLED
        } else {
            INSTANCE_ROLE
        };
        let spec = Spec {
            kind: EdgeKind::InstanceRole,
            technique: Some(if workload { "T1528" } else { "T1552.005" }),
            probability: probability::with_control(base, ctx.input.controls.edr),
            evidence: Evidence::Configured,
        };
        let change = if workload {
            format!("set automountServiceAccountToken: false on {}", ctx.label(runner))
        } else {
            format!("detach {} from {}", ctx.label(identity), ctx.label(runner))
        };
        let fix = ctx.configuration_fix(runner, change);
        ctx.edge(
            (runner, Capability::ExecuteUser),
            (identity, Capability::Control),
            spec,
            vec![fix],
        );
    }
    ctx.put_links(RelationshipKind::CanAssume, links);
}

fn stored_credentials(ctx: &mut Context<'_>) {
    let edr = ctx.input.controls.edr;
    let mfa = ctx.input.controls.mfa;
    let links = ctx.take_links(RelationshipKind::HasCredential);
    for link in &links {
        let (holder, credential) = (link.from, link.to);
        if ctx.role(credential) != Role::Credential {
            continue;
        }
        match ctx.role(holder) {
            Role::Executable | Role::Repository | Role::Image => {
                let (premise, probability) = holder_premise(ctx, holder, edr);
                let spec = Spec {
                    kind: EdgeKind::CredentialAccess,
                    technique: Some("T1552.001"),
                    probability,
                    evidence: Evidence::Configured,
                };
                ctx.edge((holder, premise), (credential, Capability::Control), spec, Vec::new());
            }
            role @ (Role::Identity | Role::DataStore) => {
                let spec = Spec {
                    kind: EdgeKind::UseCredential,
                    technique: Some("T1078"),
                    probability: probability::with_control(USE_CREDENTIAL, mfa),
                    evidence: Evidence::Configured,
                };
                let gained: &[Capability] = if role == Role::Identity {
                    &[Capability::Control]
                } else {
                    &[Capability::Read, Capability::Write]
                };
                for &capability in gained {
                    let fix = ctx.configuration_fix(credential, format!("rotate {}", ctx.label(credential)));
                    ctx.edge((credential, Capability::Control), (holder, capability), spec, vec![fix]);
                }
            }
            _ => {}
        }
    }
    ctx.put_links(RelationshipKind::HasCredential, links);
}

/// The capability on a holder that reaches what it stores, and the
/// probability of finding it there.
fn holder_premise(ctx: &Context<'_>, holder: AssetId, edr: f64) -> (Capability, f32) {
    match ctx.role(holder) {
        Role::Executable => (
            Capability::ExecuteUser,
            probability::with_control(CREDENTIAL_ACCESS, edr),
        ),
        _ => (Capability::Read, CREDENTIAL_ACCESS),
    }
}

fn leaked_secrets(ctx: &mut Context<'_>) {
    let mut by_digest: HashMap<&str, Vec<AssetId>> = HashMap::new();
    for asset in 0..ctx.asset_count() as AssetId {
        if ctx.role(asset) != Role::Credential {
            continue;
        }
        for digest in ctx.identifiers(asset, "secret_sha256") {
            by_digest.entry(digest).or_default().push(asset);
        }
    }

    let edr = ctx.input.controls.edr;
    for index in 0..ctx.input.findings.len() {
        let graph_finding = ctx.input.findings[index];
        let finding = graph_finding.finding;
        if finding.kind != FindingKind::Secret || weakness::is_closed(finding) {
            continue;
        }
        let Some(holder) = ctx.find_asset(finding.asset.as_str()) else {
            continue;
        };
        if matches!(ctx.role(holder), Role::Internet | Role::Zone | Role::Pattern) {
            continue;
        }
        let (premise, probability) = holder_premise(ctx, holder, edr);
        let spec = Spec {
            kind: EdgeKind::CredentialAccess,
            technique: Some("T1552.001"),
            probability,
            evidence: Evidence::Observed,
        };
        let digest = finding.secret.as_ref().map(|secret| secret.sha256.as_str());
        let known = digest.and_then(|digest| by_digest.get(digest)).cloned();
        let credentials = match known {
            Some(credentials) => credentials,
            None => {
                let identifier = match digest {
                    Some(digest) => format!("secret:{digest}"),
                    None => format!("finding:{}", graph_finding.fingerprint),
                };
                let key = AssetKey::new(AssetKind::Credential, &identifier);
                // The builder returns the same id for a key it has seen, so
                // findings of one secret share its credential.
                let credential = ctx.synthetic_asset(
                    AssetInfo {
                        key,
                        name: finding.title.clone(),
                        kind: AssetKind::Credential,
                        criticality: None,
                    },
                    Role::Credential,
                );
                vec![credential]
            }
        };
        for credential in credentials {
            let fix = FixRef::Finding {
                fingerprint: graph_finding.fingerprint.to_string(),
            };
            ctx.edge((holder, premise), (credential, Capability::Control), spec, vec![fix]);
        }
    }
}
