//! `iam get-account-authorization-details`: users, groups, roles, instance
//! profiles and managed policies, with the permissions of their policy
//! documents as edges.
//!
//! The export lists managed policies apart from the principals they are
//! attached to, and users name their groups by name, so the joins wait
//! for the end of the file. Until then the parser keeps each principal's
//! attachments and each policy's grants (a few strings each), never whole
//! documents.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use ctem_model::{AssetKey, AssetKind, Finding, FindingKind, RelationshipKind, Severity};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::keys::{self, Tag};
use super::{Export, TOOL};

const COMMAND: &str = "iam-get-account-authorization-details";

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct User {
    arn: Option<String>,
    user_name: Option<String>,
    user_id: Option<String>,
    path: Option<String>,
    create_date: Option<String>,
    group_list: Vec<String>,
    user_policy_list: Vec<InlinePolicy>,
    attached_managed_policies: Vec<AttachedPolicy>,
    permissions_boundary: Option<Boundary>,
    tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Group {
    arn: Option<String>,
    group_name: Option<String>,
    group_id: Option<String>,
    path: Option<String>,
    create_date: Option<String>,
    group_policy_list: Vec<InlinePolicy>,
    attached_managed_policies: Vec<AttachedPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Role {
    arn: Option<String>,
    role_name: Option<String>,
    role_id: Option<String>,
    path: Option<String>,
    create_date: Option<String>,
    assume_role_policy_document: Option<PolicyDocument>,
    instance_profile_list: Vec<InstanceProfile>,
    role_policy_list: Vec<InlinePolicy>,
    attached_managed_policies: Vec<AttachedPolicy>,
    permissions_boundary: Option<Boundary>,
    role_last_used: Option<LastUsed>,
    tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct ManagedPolicy {
    arn: Option<String>,
    policy_name: Option<String>,
    policy_id: Option<String>,
    path: Option<String>,
    default_version_id: Option<String>,
    attachment_count: Option<i64>,
    is_attachable: Option<bool>,
    policy_version_list: Vec<PolicyVersion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct PolicyVersion {
    document: Option<PolicyDocument>,
    version_id: Option<String>,
    is_default_version: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct InstanceProfile {
    arn: Option<String>,
    instance_profile_name: Option<String>,
    instance_profile_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct InlinePolicy {
    policy_name: Option<String>,
    policy_document: Option<PolicyDocument>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct AttachedPolicy {
    policy_arn: Option<String>,
    policy_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Boundary {
    permissions_boundary_arn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct LastUsed {
    last_used_date: Option<String>,
}

/// An IAM policy document. The CLI writes it as a JSON object; the raw API
/// writes it as URL-encoded JSON text, which is decoded first.
#[derive(Debug, Default)]
pub(super) struct PolicyDocument {
    statements: Vec<Statement>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct RawDocument {
    statement: OneOrMany<Statement>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Statement {
    effect: Option<String>,
    action: OneOrMany<String>,
    resource: OneOrMany<String>,
    principal: Option<Principal>,
    condition: Option<IgnoredAny>,
}

/// A value that policies write as one item or as an array of items.
#[derive(Debug)]
struct OneOrMany<T>(Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape<T> {
            Many(Vec<T>),
            One(T),
        }
        match Option::<Shape<T>>::deserialize(deserializer)? {
            Some(Shape::Many(items)) => Ok(OneOrMany(items)),
            Some(Shape::One(item)) => Ok(OneOrMany(vec![item])),
            None => Ok(OneOrMany(Vec::new())),
        }
    }
}

/// The principal of a trust policy statement: `"*"`, or principals by type.
#[derive(Debug, Default)]
struct Principal {
    /// (type, value): (`AWS`, an ARN, an account id or `*`), (`Service`,
    /// `ec2.amazonaws.com`), (`Federated`, a provider), (`CanonicalUser`, an id).
    entries: Vec<(String, String)>,
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Anyone(String),
            ByType(BTreeMap<String, OneOrMany<String>>),
        }
        Ok(match Shape::deserialize(deserializer)? {
            Shape::Anyone(text) => Principal {
                entries: vec![("AWS".to_string(), text)],
            },
            Shape::ByType(map) => Principal {
                entries: map
                    .into_iter()
                    .flat_map(|(kind, values)| values.0.into_iter().map(move |value| (kind.clone(), value)))
                    .collect(),
            },
        })
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DocumentVisitor;

        impl<'de> Visitor<'de> for DocumentVisitor {
            type Value = PolicyDocument;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a policy document as an object or as URL-encoded JSON text")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<PolicyDocument, E> {
                let decoded = percent_decode(text);
                let raw: RawDocument = serde_json::from_str(&decoded)
                    .map_err(|error| E::custom(format!("invalid policy document text: {error}")))?;
                Ok(PolicyDocument {
                    statements: raw.statement.0,
                })
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<PolicyDocument, A::Error> {
                let raw = RawDocument::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(PolicyDocument {
                    statements: raw.statement.0,
                })
            }

            fn visit_unit<E: de::Error>(self) -> Result<PolicyDocument, E> {
                Ok(PolicyDocument::default())
            }
        }

        deserializer.deserialize_any(DocumentVisitor)
    }
}

/// Decodes `%XX` escapes (and keeps any malformed escape as written).
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut output = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                output.push(byte);
                index += 3;
            }
            None => {
                output.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&output).into_owned()
}

/// The access that an action gives a principal to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Access {
    Read,
    Write,
    Assume,
}

impl Access {
    fn relationship(self) -> RelationshipKind {
        match self {
            Access::Read => RelationshipKind::CanRead,
            Access::Write => RelationshipKind::CanWrite,
            Access::Assume => RelationshipKind::CanAssume,
        }
    }
}

/// Verbs of read actions (`s3:GetObject`, `dynamodb:Query`).
const READ_VERBS: &[&str] = &["Get", "List", "Describe", "Head", "BatchGet", "Select", "Scan", "Query"];

/// Verbs of write actions (`s3:PutObject`, `rds:ModifyDBInstance`).
const WRITE_VERBS: &[&str] = &[
    "Put",
    "Delete",
    "Create",
    "Update",
    "Modify",
    "Attach",
    "Detach",
    "Upload",
    "BatchWrite",
    "Write",
    "Replace",
    "Restore",
    "Copy",
    "Abort",
    "Tag",
    "Untag",
    "Set",
    "Add",
    "Remove",
];

/// Classifies one action: read or write by its verb, both for `*` and
/// `service:*`, assume for `sts:AssumeRole*`. Other verbs (`Invoke`,
/// `Send`, `Start`, `PassRole`...) give no edge.
fn classify(action: &str) -> (String, Vec<Access>) {
    let action = action.trim();
    if action == "*" {
        return ("*".to_string(), vec![Access::Read, Access::Write]);
    }
    let (service, verb) = action.split_once(':').unwrap_or(("*", action));
    let service = service.to_ascii_lowercase();
    if verb == "*" {
        let mut access = vec![Access::Read, Access::Write];
        if service == "sts" {
            access.push(Access::Assume);
        }
        return (service, access);
    }
    if service == "sts" && verb.starts_with("AssumeRole") {
        return (service, vec![Access::Assume]);
    }
    let starts = |verbs: &[&str]| verbs.iter().any(|prefix| verb.starts_with(prefix));
    let mut access = Vec::new();
    if starts(READ_VERBS) {
        access.push(Access::Read);
    }
    if starts(WRITE_VERBS) {
        access.push(Access::Write);
    }
    (service, access)
}

/// Collects the (access, resource) pairs that a document's `Allow` statements give.
/// `Deny`, `NotAction`, `NotResource` and conditions are not evaluated, so
/// the edges over-approximate what the principal can do. A `Resource` of
/// `*` is narrowed to the action's service (`arn:aws:s3:*`).
fn grants(document: &PolicyDocument) -> BTreeSet<(Access, String)> {
    let mut grants = BTreeSet::new();
    for statement in &document.statements {
        if statement.effect.as_deref() != Some("Allow") {
            continue;
        }
        for action in &statement.action.0 {
            let (service, accesses) = classify(action);
            for access in accesses {
                for resource in &statement.resource.0 {
                    let resource = resource.trim();
                    let resource = match (resource, access) {
                        ("*", Access::Assume) => "arn:aws:iam::*:role/*".to_string(),
                        ("*", _) if service == "*" => "*".to_string(),
                        ("*", _) => format!("arn:aws:{service}:*"),
                        (resource, Access::Assume) if !resource.contains(":role/") && !resource.contains('*') => {
                            continue;
                        }
                        (resource, _) => resource.to_string(),
                    };
                    grants.insert((access, resource));
                }
            }
        }
    }
    grants
}

/// Returns whether a resource text is a pattern rather than one resource. The
/// objects of one bucket (`arn:aws:s3:::bucket/*`) count as the bucket.
fn is_pattern(resource: &str) -> bool {
    let resource = match keys::Arn::parse(resource) {
        Some(arn) if arn.service == "s3" => arn.resource.split('/').next().unwrap_or(arn.resource),
        _ => resource,
    };
    resource.contains(['*', '?']) || resource.contains("${")
}

/// The asset a permission leads to: the resource itself, or for a pattern
/// an asset of kind `other` keyed `aws-pattern:<pattern>`, which the graph
/// can match against the ARNs it has.
fn resource_stub(resource: &str) -> ctem_model::Asset {
    if is_pattern(resource) {
        let key = AssetKey::new(AssetKind::Other, &format!("aws-pattern:{resource}"));
        let mut asset = keys::asset_for(&key, &format!("AWS resources matching {resource}"));
        asset.add_identifier("arn_pattern", resource);
        return asset;
    }
    keys::arn_stub(resource, &keys::arn_type(resource))
}

/// The joins that wait for the end of the export.
#[derive(Debug, Default)]
pub(super) struct Joins {
    /// Group ARNs by group name.
    group_arns: HashMap<String, String>,
    /// (user, group name, the user's account) of each membership.
    memberships: Vec<(AssetKey, String, Option<String>)>,
    /// (principal, policy ARN) of each attached managed policy.
    attachments: Vec<(AssetKey, String)>,
    /// The grants of each managed policy's default version, by ARN.
    policy_grants: HashMap<String, BTreeSet<(Access, String)>>,
}

/// Returns the account of an ARN, when it is a 12-digit account id; AWS managed
/// policies name the account `aws`.
fn account_of(arn: &str) -> Option<String> {
    keys::Arn::parse(arn)
        .and_then(|parts| parts.account())
        .filter(|account| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Declares the account's scope and returns the target, or `None` when
/// the ARN names no account.
fn scope(export: &mut Export<'_>, arn: &str) -> Option<String> {
    let target = keys::global_target(&account_of(arn)?, COMMAND);
    export.records.target(&target);
    Some(target)
}

/// Sends the edges of a principal's inline policies and keeps its managed
/// policy attachments for the end; returns the attribute values that name
/// them.
fn permissions(
    export: &mut Export<'_>,
    principal: &AssetKey,
    inline: &[InlinePolicy],
    attached: &[AttachedPolicy],
) -> (Option<String>, Option<String>) {
    for policy in inline {
        if let Some(document) = &policy.policy_document {
            send_grants(export, principal, &grants(document));
        }
    }
    for policy in attached {
        if let Some(arn) = text(&policy.policy_arn) {
            export.joins.attachments.push((principal.clone(), arn.to_string()));
        }
    }
    let names = |items: Vec<&str>| (!items.is_empty()).then(|| items.join(","));
    (
        names(inline.iter().filter_map(|p| text(&p.policy_name)).collect()),
        names(attached.iter().filter_map(|p| text(&p.policy_arn)).collect()),
    )
}

fn send_grants(export: &mut Export<'_>, principal: &AssetKey, grants: &BTreeSet<(Access, String)>) {
    for (access, resource) in grants {
        let stub = resource_stub(resource);
        export.records.link(principal, access.relationship(), &stub.key.clone());
        export.records.stub(stub);
    }
}

/// Builds a principal's asset with the fields every principal has.
fn principal_asset(
    arn: &str,
    name: Option<&str>,
    resource_type: &str,
    path: Option<&str>,
    created: Option<&str>,
) -> ctem_model::Asset {
    let mut asset = keys::arn_stub(arn, resource_type);
    if let Some(name) = name {
        asset.name = name.to_string();
    }
    keys::identify(&mut asset, "account", account_of(arn).as_deref());
    keys::set(&mut asset, "path", path);
    keys::set(&mut asset, "create_date", created);
    asset
}

pub(super) fn user(export: &mut Export<'_>, user: User) {
    let Some(arn) = text(&user.arn) else {
        return;
    };
    scope(export, arn);
    let mut asset = principal_asset(
        arn,
        text(&user.user_name),
        "iam-user",
        text(&user.path),
        text(&user.create_date),
    );
    keys::identify(&mut asset, "user_id", text(&user.user_id));
    keys::identify(&mut asset, "user_name", text(&user.user_name));
    keys::add_tags(&mut asset, &user.tags);
    let key = asset.key.clone();

    let (inline, attached) = permissions(export, &key, &user.user_policy_list, &user.attached_managed_policies);
    keys::set(&mut asset, "inline_policies", inline.as_deref());
    keys::set(&mut asset, "attached_policies", attached.as_deref());
    keys::set(
        &mut asset,
        "permissions_boundary",
        user.permissions_boundary
            .as_ref()
            .and_then(|b| text(&b.permissions_boundary_arn)),
    );
    if !user.group_list.is_empty() {
        asset.attributes.insert("groups".into(), user.group_list.join(","));
    }
    export.records.asset(asset);

    for group in &user.group_list {
        export
            .joins
            .memberships
            .push((key.clone(), group.clone(), account_of(arn)));
    }
}

pub(super) fn group(export: &mut Export<'_>, group: Group) {
    let Some(arn) = text(&group.arn) else {
        return;
    };
    scope(export, arn);
    let mut asset = principal_asset(
        arn,
        text(&group.group_name),
        "iam-group",
        text(&group.path),
        text(&group.create_date),
    );
    keys::identify(&mut asset, "group_id", text(&group.group_id));
    keys::identify(&mut asset, "group_name", text(&group.group_name));
    let key = asset.key.clone();

    let (inline, attached) = permissions(export, &key, &group.group_policy_list, &group.attached_managed_policies);
    keys::set(&mut asset, "inline_policies", inline.as_deref());
    keys::set(&mut asset, "attached_policies", attached.as_deref());
    export.records.asset(asset);

    if let Some(name) = text(&group.group_name) {
        export.joins.group_arns.insert(name.to_string(), arn.to_string());
    }
}

pub(super) fn role(export: &mut Export<'_>, role: Role) {
    let Some(arn) = text(&role.arn) else {
        return;
    };
    let target = scope(export, arn);
    let mut asset = principal_asset(
        arn,
        text(&role.role_name),
        "iam-role",
        text(&role.path),
        text(&role.create_date),
    );
    keys::identify(&mut asset, "role_id", text(&role.role_id));
    keys::identify(&mut asset, "role_name", text(&role.role_name));
    keys::add_tags(&mut asset, &role.tags);
    let key = asset.key.clone();

    let (inline, attached) = permissions(export, &key, &role.role_policy_list, &role.attached_managed_policies);
    keys::set(&mut asset, "inline_policies", inline.as_deref());
    keys::set(&mut asset, "attached_policies", attached.as_deref());
    keys::set(
        &mut asset,
        "permissions_boundary",
        role.permissions_boundary
            .as_ref()
            .and_then(|b| text(&b.permissions_boundary_arn)),
    );
    keys::set(
        &mut asset,
        "last_used_date",
        role.role_last_used.as_ref().and_then(|used| text(&used.last_used_date)),
    );
    let name = asset.name.clone();
    export.records.asset(asset);

    for profile in &role.instance_profile_list {
        let Some(profile_arn) = text(&profile.arn) else {
            continue;
        };
        let mut profile_asset = keys::arn_stub(profile_arn, "iam-instance-profile");
        if let Some(name) = text(&profile.instance_profile_name) {
            profile_asset.name = name.to_string();
        }
        keys::identify(
            &mut profile_asset,
            "instance_profile_id",
            text(&profile.instance_profile_id),
        );
        let profile_key = profile_asset.key.clone();
        export.records.asset(profile_asset);
        export.records.link(&profile_key, RelationshipKind::CanAssume, &key);
    }

    if let Some(trust) = &role.assume_role_policy_document {
        trust_edges(export, &key, &name, trust, target.as_deref());
    }
}

/// Sends an edge from each principal that the trust policy allows to
/// assume the role, and a finding when it allows anyone without a
/// condition.
fn trust_edges(export: &mut Export<'_>, role: &AssetKey, name: &str, trust: &PolicyDocument, target: Option<&str>) {
    for statement in &trust.statements {
        if statement.effect.as_deref() != Some("Allow") {
            continue;
        }
        if !statement.action.0.iter().any(|action| allows_assume(action)) {
            continue;
        }
        for (kind, value) in statement.principal.iter().flat_map(|p| &p.entries) {
            let principal = principal_stub(kind, value.trim());
            let anyone = principal.key.identifier() == ANYONE;
            export
                .records
                .link(&principal.key.clone(), RelationshipKind::CanAssume, role);
            export.records.stub(principal);
            if anyone && statement.condition.is_none() {
                export.records.finding(anyone_finding(role, name, target));
            }
        }
    }
}

/// Returns whether an action of a trust policy lets its principal assume the role:
/// `sts:AssumeRole`, `sts:AssumeRoleWithSAML`, `sts:AssumeRoleWithWebIdentity`,
/// `sts:*` or `*` (action names are case-insensitive).
fn allows_assume(action: &str) -> bool {
    let action = action.trim().to_ascii_lowercase();
    action == "*" || action == "sts:*" || action.starts_with("sts:assumerole")
}

/// The identifier of the principal `*`: any AWS identity of any account.
const ANYONE: &str = "aws:principal:*";

/// Builds the asset of a trust policy principal: an IAM ARN, an account (as its
/// root ARN), a service, a federated provider, a canonical user, or
/// anyone.
fn principal_stub(kind: &str, value: &str) -> ctem_model::Asset {
    let identity = |identifier: String, name: &str, id_kind: &str| {
        let key = AssetKey::new(AssetKind::Identity, &identifier);
        let mut asset = keys::asset_for(&key, name);
        asset.add_identifier(id_kind, value);
        asset
    };
    if value == "*" {
        return identity(ANYONE.to_string(), "any AWS principal", "principal");
    }
    match kind {
        "AWS" if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) => {
            keys::arn_stub(&format!("arn:aws:iam::{value}:root"), "iam-root")
        }
        "Service" => identity(format!("aws:service:{value}"), value, "service_principal"),
        "CanonicalUser" => identity(format!("aws:canonical-user:{value}"), value, "canonical_user"),
        "Federated" if keys::Arn::parse(value).is_none() => {
            identity(format!("aws:federated:{value}"), value, "federated_principal")
        }
        _ => keys::arn_stub(value, &keys::arn_type(value)),
    }
}

fn anyone_finding(role: &AssetKey, name: &str, target: Option<&str>) -> Finding {
    let mut finding = Finding::new(
        TOOL,
        "aws-iam-role-trusts-any-principal",
        FindingKind::Misconfiguration,
        format!("IAM role {name} can be assumed by any AWS principal"),
        Severity::Critical,
        role.clone(),
    );
    finding.description = Some(format!(
        "The trust policy of role {name} allows sts:AssumeRole to the principal \"*\" without a condition, so \
         any identity of any AWS account can take on the role's permissions."
    ));
    finding.fix.description = Some(
        "Name the accounts, roles or services that need the role in the trust policy's Principal, or add a \
         condition such as aws:PrincipalOrgID or sts:ExternalId."
            .to_string(),
    );
    finding.references.push(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html".to_string(),
    );
    finding.target = target.map(str::to_string);
    finding
}

/// Sends a managed policy, and keeps the grants of its default version
/// for the principals it is attached to.
pub(super) fn managed_policy(export: &mut Export<'_>, policy: ManagedPolicy) {
    let Some(arn) = text(&policy.arn) else {
        return;
    };
    scope(export, arn);
    let mut asset = keys::arn_stub(arn, "iam-policy");
    if let Some(name) = text(&policy.policy_name) {
        asset.name = name.to_string();
    }
    keys::identify(&mut asset, "policy_id", text(&policy.policy_id));
    keys::set(&mut asset, "path", text(&policy.path));
    keys::set(&mut asset, "default_version_id", text(&policy.default_version_id));
    keys::set(
        &mut asset,
        "attachment_count",
        policy.attachment_count.map(|c| c.to_string()).as_deref(),
    );
    keys::set(
        &mut asset,
        "is_attachable",
        policy.is_attachable.map(|c| c.to_string()).as_deref(),
    );
    export.records.asset(asset);

    let default = policy.policy_version_list.iter().find(|version| {
        version.is_default_version == Some(true)
            || (version.version_id.is_some() && version.version_id == policy.default_version_id)
    });
    if let Some(document) = default.and_then(|version| version.document.as_ref()) {
        export.joins.policy_grants.insert(arn.to_string(), grants(document));
    }
}

/// Sends the edges that needed the whole export: users into their groups,
/// and principals to what their managed policies allow.
pub(super) fn finish(export: &mut Export<'_>) {
    let joins = std::mem::take(&mut export.joins);
    for (user, group_name, account) in &joins.memberships {
        let arn = joins.group_arns.get(group_name).cloned().or_else(|| {
            account
                .as_ref()
                .map(|account| format!("arn:aws:iam::{account}:group/{group_name}"))
        });
        let stub = match arn {
            Some(arn) => keys::arn_stub(&arn, "iam-group"),
            // Without the group's ARN or the user's account, the group is
            // known by name only.
            None => {
                let key = AssetKey::new(AssetKind::Identity, &format!("aws:iam-group-name:{group_name}"));
                keys::asset_for(&key, group_name)
            }
        };
        export.records.link(user, RelationshipKind::MemberOf, &stub.key.clone());
        export.records.stub(stub);
    }
    for (principal, policy) in &joins.attachments {
        if let Some(grants) = joins.policy_grants.get(policy) {
            send_grants(export, principal, grants);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(json: &str) -> PolicyDocument {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn verbs_classify() {
        assert_eq!(classify("s3:GetObject"), ("s3".to_string(), vec![Access::Read]));
        assert_eq!(classify("s3:PutObject"), ("s3".to_string(), vec![Access::Write]));
        assert_eq!(classify("s3:*"), ("s3".to_string(), vec![Access::Read, Access::Write]));
        assert_eq!(classify("*"), ("*".to_string(), vec![Access::Read, Access::Write]));
        assert_eq!(classify("sts:AssumeRole"), ("sts".to_string(), vec![Access::Assume]));
        assert_eq!(classify("lambda:InvokeFunction"), ("lambda".to_string(), vec![]));
        assert_eq!(classify("s3:Get*"), ("s3".to_string(), vec![Access::Read]));
    }

    #[test]
    fn star_resources_narrow_to_service() {
        let grants = grants(&document(
            r#"{"Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances"], "Resource": "*"}}"#,
        ));
        let resources: Vec<_> = grants.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(resources, ["arn:aws:ec2:*", "arn:aws:s3:*"]);
    }

    #[test]
    fn deny_gives_nothing() {
        let grants = grants(&document(
            r#"{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#,
        ));
        assert!(grants.is_empty());
    }

    #[test]
    fn encoded_documents_decode() {
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Apayroll%2F%2A%22%7D%5D%7D";
        let document: PolicyDocument = serde_json::from_value(serde_json::Value::String(encoded.into())).unwrap();
        let grants = grants(&document);
        assert_eq!(grants.len(), 1);
        assert!(grants.contains(&(Access::Read, "arn:aws:s3:::payroll/*".to_string())));
        assert!(!is_pattern("arn:aws:s3:::payroll/*"));
        assert!(is_pattern("arn:aws:s3:::pay*"));
        assert_eq!(
            resource_stub("arn:aws:s3:::payroll/*").key.as_str(),
            "data_store:arn:aws:s3:::payroll"
        );
    }

    #[test]
    fn principals_key() {
        assert_eq!(principal_stub("AWS", "*").key.as_str(), "identity:aws:principal:*");
        assert_eq!(
            principal_stub("AWS", "123456789012").key.as_str(),
            "identity:arn:aws:iam::123456789012:root"
        );
        assert_eq!(
            principal_stub("Service", "ec2.amazonaws.com").key.as_str(),
            "identity:aws:service:ec2.amazonaws.com"
        );
    }
}
