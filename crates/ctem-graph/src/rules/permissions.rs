//! Rules: what an identity's policies permit.
//!
//! # Assume a role
//!
//! - Premises: `<principal> CanAssume <role>` (a trust policy, an
//!   `sts:AssumeRole` permission, an instance profile and its role, a
//!   Kubernetes role binding), and `Control` of a principal that is an
//!   identity or a credential. Runners that assume a role are the instance
//!   role rule's.
//! - Conclusion: `Control` of the role, kind `AssumeRole` (`UseCredential`
//!   from a credential).
//! - Technique T1078.004 (Valid Accounts: Cloud Accounts), T1078 from a
//!   credential. Evidence `Permitted`. Probability [`PERMITTED`], or
//!   [`USE_CREDENTIAL`] times the MFA control from a credential.
//! - Fix: the `aws-iam-role-trusts-any-principal` finding of the role when
//!   the principal is `identity:aws:principal:*`, else a configuration
//!   change on the role ("remove app from the principals allowed to
//!   assume admin").
//!
//! # Read and write
//!
//! - Premises: `<principal> CanRead|CanWrite <resource>` and `Control` of
//!   the principal (`ExecuteUser` of a principal that runs code).
//! - Conclusion: `Read` or `Write` of the resource, kind `Permission`.
//! - Technique: T1530 (Data from Cloud Storage) for reading a data store,
//!   T1552.007 (Container API) for reading a Kubernetes Secret, T1098
//!   (Account Manipulation) for writing an identity. Evidence `Permitted`;
//!   probability [`PERMITTED`].
//! - Fix: a configuration change on the principal ("remove write access to
//!   payroll from the policies of app").
//!
//! # Group membership
//!
//! - Premises: `<identity> MemberOf <group identity>` and `Control` of the
//!   member. Conclusion: `Control` of the group, whose permissions the
//!   member has (kind `Permission`, probability [`STRUCTURAL`], evidence
//!   `Configured`). Fix: remove the member from the group.
//!
//! # Resource patterns
//!
//! A permission on a pattern (`other:aws-pattern:arn:aws:s3:*`,
//! `other:aws-pattern:arn:aws:iam::*:role/*`,
//! `other:k8s-pattern:shop/Secret/*`) leads to the pattern's node, and the
//! node leads to every known resource that the pattern matches, with the
//! same capability (`Control` only to identities). AWS patterns match the
//! ARNs of known assets (the key's identifier when it is an ARN, else the
//! `arn` identifiers), with `*` and `?` as wildcards and policy variables
//! (`${aws:username}`) read as `*`; Kubernetes patterns match the
//! `k8s:<namespace>/<Kind>/<name>` identifiers. Kind `Permission`,
//! probability [`STRUCTURAL`] (the permission edge carries the
//! probability), evidence `Permitted`, no fix (the fix is on the
//! permission edge). Matching `arn:aws:iam::*:role/*` to every role
//! over-approximates: the role's trust policy must also allow it.

use ctem_model::{AssetKind, RelationshipKind};

use super::context::{Context, Link, Role, Spec};
use super::probability::{self, PERMITTED, STRUCTURAL, USE_CREDENTIAL};
use crate::{AssetId, Capability, EdgeKind, Evidence, FixRef};

const ANY_AWS_PRINCIPAL: &str = "identity:aws:principal:*";
const TRUSTS_ANYONE_RULE: &str = "aws-iam-role-trusts-any-principal";

pub fn apply(ctx: &mut Context<'_>) {
    assume(ctx);
    let reads = ctx.take_links(RelationshipKind::CanRead);
    access(ctx, &reads, Capability::Read);
    ctx.put_links(RelationshipKind::CanRead, reads);
    let writes = ctx.take_links(RelationshipKind::CanWrite);
    access(ctx, &writes, Capability::Write);
    ctx.put_links(RelationshipKind::CanWrite, writes);
    groups(ctx);
    patterns(ctx);
}

/// Returns the capability on a principal that uses its permissions.
fn principal_capability(ctx: &Context<'_>, principal: AssetId) -> Option<Capability> {
    match ctx.role(principal) {
        Role::Identity | Role::Credential => Some(Capability::Control),
        Role::Executable => Some(Capability::ExecuteUser),
        _ => None,
    }
}

fn assume(ctx: &mut Context<'_>) {
    let links = ctx.take_links(RelationshipKind::CanAssume);
    let anyone = ctx.find_asset(ANY_AWS_PRINCIPAL);
    for link in &links {
        let (principal, role) = (link.from, link.to);
        let from_credential = match ctx.role(principal) {
            Role::Identity => false,
            Role::Credential => true,
            _ => continue,
        };
        if !matches!(ctx.role(role), Role::Identity | Role::Pattern) {
            continue;
        }
        let spec = if from_credential {
            Spec {
                kind: EdgeKind::UseCredential,
                technique: Some("T1078"),
                probability: probability::with_control(USE_CREDENTIAL, ctx.input.controls.mfa),
                evidence: Evidence::Permitted,
            }
        } else {
            Spec {
                kind: EdgeKind::AssumeRole,
                technique: Some("T1078.004"),
                probability: PERMITTED,
                evidence: Evidence::Permitted,
            }
        };
        // An instance profile passes its role to the instance: the change
        // is on the profile, not on the role's trust policy.
        let from_profile = ctx.info(principal).key.as_str().contains(":instance-profile/");
        let fix = match trust_finding(ctx, principal, role, anyone) {
            Some(fingerprint) => FixRef::Finding { fingerprint },
            None if from_profile => ctx.configuration_fix(
                principal,
                format!(
                    "remove role {} from instance profile {}",
                    ctx.label(role),
                    ctx.label(principal)
                ),
            ),
            None => ctx.configuration_fix(
                role,
                format!(
                    "remove {} from the principals allowed to assume {}",
                    ctx.label(principal),
                    ctx.label(role)
                ),
            ),
        };
        ctx.edge(
            (principal, Capability::Control),
            (role, Capability::Control),
            spec,
            vec![fix],
        );
    }
    ctx.put_links(RelationshipKind::CanAssume, links);
}

/// Returns the fingerprint of the finding that reports a role trusting any principal.
fn trust_finding(ctx: &Context<'_>, principal: AssetId, role: AssetId, anyone: Option<AssetId>) -> Option<String> {
    if Some(principal) != anyone {
        return None;
    }
    ctx.findings.get(role).iter().find_map(|&index| {
        let finding = ctx.input.findings[index as usize];
        (finding.finding.rule_id == TRUSTS_ANYONE_RULE).then(|| finding.fingerprint.to_string())
    })
}

fn access(ctx: &mut Context<'_>, links: &[Link], gained: Capability) {
    let verb = if gained == Capability::Read { "read" } else { "write" };
    for link in links {
        let (principal, resource) = (link.from, link.to);
        let Some(premise) = principal_capability(ctx, principal) else {
            continue;
        };
        if matches!(ctx.role(resource), Role::Internet | Role::Zone) {
            continue;
        }
        let technique = match (gained, ctx.role(resource)) {
            (Capability::Read, Role::DataStore) => Some("T1530"),
            (Capability::Read, Role::Credential) => Some("T1552.007"),
            (Capability::Write, Role::Identity) => Some("T1098"),
            _ => None,
        };
        let spec = Spec {
            kind: EdgeKind::Permission,
            technique,
            probability: PERMITTED,
            evidence: Evidence::Permitted,
        };
        let change = format!(
            "remove {verb} access to {} from the policies of {}",
            ctx.label(resource),
            ctx.label(principal)
        );
        let fix = ctx.configuration_fix(principal, change);
        ctx.edge((principal, premise), (resource, gained), spec, vec![fix]);
    }
}

fn groups(ctx: &mut Context<'_>) {
    let links = ctx.take_links(RelationshipKind::MemberOf);
    let spec = Spec {
        kind: EdgeKind::Permission,
        technique: None,
        probability: STRUCTURAL,
        evidence: Evidence::Configured,
    };
    for link in &links {
        let (member, group) = (link.from, link.to);
        if ctx.role(member) != Role::Identity || ctx.role(group) != Role::Identity {
            continue;
        }
        let change = format!("remove {} from {}", ctx.label(member), ctx.label(group));
        let fix = ctx.configuration_fix(group, change);
        ctx.edge(
            (member, Capability::Control),
            (group, Capability::Control),
            spec,
            vec![fix],
        );
    }
    ctx.put_links(RelationshipKind::MemberOf, links);
}

/// The text a pattern matches against and the assets it may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Aws,
    Kubernetes,
}

fn patterns(ctx: &mut Context<'_>) {
    let resolved = match_patterns(ctx);
    let spec = Spec {
        kind: EdgeKind::Permission,
        technique: None,
        probability: STRUCTURAL,
        evidence: Evidence::Permitted,
    };
    for (pattern, matches) in resolved {
        for capability in [Capability::Read, Capability::Write, Capability::Control] {
            if !ctx.has_node(pattern, capability) {
                continue;
            }
            for &target in &matches {
                if capability == Capability::Control && ctx.info(target).kind != AssetKind::Identity {
                    continue;
                }
                ctx.edge((pattern, capability), (target, capability), spec, Vec::new());
            }
        }
    }
}

/// The assets that each pattern with a permission on it matches.
fn match_patterns(ctx: &Context<'_>) -> Vec<(AssetId, Vec<AssetId>)> {
    let mut patterns: Vec<(AssetId, Namespace, String)> = Vec::new();
    let mut aws: Vec<(&str, AssetId)> = Vec::new();
    let mut kubernetes: Vec<(&str, AssetId)> = Vec::new();
    for asset in 1..ctx.asset_count() as AssetId {
        let role = ctx.role(asset);
        let identifier = ctx.info(asset).key.identifier();
        if role == Role::Pattern {
            let used = [Capability::Read, Capability::Write, Capability::Control]
                .into_iter()
                .any(|capability| ctx.has_node(asset, capability));
            if !used {
                continue;
            }
            if let Some(pattern) = identifier.strip_prefix("aws-pattern:") {
                patterns.push((asset, Namespace::Aws, variables_as_wildcards(pattern)));
            } else if let Some(pattern) = identifier.strip_prefix("k8s-pattern:") {
                patterns.push((asset, Namespace::Kubernetes, format!("k8s:{pattern}")));
            }
            continue;
        }
        if matches!(role, Role::Internet | Role::Zone) {
            continue;
        }
        if identifier.starts_with("k8s:") {
            kubernetes.push((identifier, asset));
        } else if identifier.starts_with("arn:") {
            aws.push((identifier, asset));
        } else if let Some(input_asset) = ctx.assets[asset as usize] {
            for arn in input_asset.identifier_values("arn") {
                aws.push((arn, asset));
            }
        }
    }
    if patterns.is_empty() {
        return Vec::new();
    }
    aws.sort_unstable();
    aws.dedup();
    kubernetes.sort_unstable();
    kubernetes.dedup();

    let mut resolved = Vec::with_capacity(patterns.len());
    for (pattern_asset, namespace, pattern) in patterns {
        let candidates = match namespace {
            Namespace::Aws => &aws,
            Namespace::Kubernetes => &kubernetes,
        };
        let prefix = &pattern[..pattern.find(['*', '?']).unwrap_or(pattern.len())];
        let start = candidates.partition_point(|(text, _)| *text < prefix);
        let mut matches: Vec<AssetId> = candidates[start..]
            .iter()
            .take_while(|(text, _)| text.starts_with(prefix))
            .filter(|(text, _)| glob_match(pattern.as_bytes(), text.as_bytes()))
            .map(|&(_, asset)| asset)
            .collect();
        matches.sort_unstable();
        matches.dedup();
        resolved.push((pattern_asset, matches));
    }
    resolved
}

/// Replaces IAM policy variables (`${aws:username}`) with `*`.
fn variables_as_wildcards(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        out.push('*');
        rest = match rest[start..].find('}') {
            Some(end) => &rest[start + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Matches text against a pattern where `*` is any run of bytes and `?` is
/// one byte, as IAM matches resource ARNs. Linear in practice: it backtracks
/// only to the last `*`.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&byte| byte == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_arns() {
        let cases = [
            ("arn:aws:s3:*", "arn:aws:s3:::payroll", true),
            ("arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:role/admin", true),
            ("arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:user/alice", false),
            ("arn:aws:s3:::pay?oll", "arn:aws:s3:::payroll", true),
            ("arn:aws:s3:::pay*x", "arn:aws:s3:::payroll", false),
            ("*", "anything", true),
            ("k8s:*/Secret/*", "k8s:shop/Secret/db", true),
            ("k8s:shop/Secret/*", "k8s:other/Secret/db", false),
            ("a*b*c", "aXbYbZc", true),
            ("", "", true),
            ("", "x", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes()),
                expected,
                "{pattern} {text}"
            );
        }
    }

    #[test]
    fn policy_variables_become_wildcards() {
        assert_eq!(
            variables_as_wildcards("arn:aws:s3:::home/${aws:username}/*"),
            "arn:aws:s3:::home/*/*"
        );
        assert_eq!(variables_as_wildcards("arn:aws:s3:::b"), "arn:aws:s3:::b");
        assert_eq!(variables_as_wildcards("x${open"), "x*");
    }
}
