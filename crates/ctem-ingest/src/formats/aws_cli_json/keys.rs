//! Asset keys, identifiers and scope targets of AWS resources.
//!
//! The scheme is described in the module doc of `aws_cli_json`; every key
//! is built here so that two exports naming the same resource build the
//! same key.

use ctem_model::{Asset, AssetKey, AssetKind};
use serde::Deserialize;

/// The key of the internet as a network source.
pub(super) const INTERNET: &str = "network:internet";

/// One tag of an AWS resource, as the CLI writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN, or returns `None` for text that is not one.
    pub(super) fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        if !partition.starts_with("aws") {
            return None;
        }
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        if service.is_empty() || resource.is_empty() {
            return None;
        }
        Some(Arn {
            service,
            region,
            account,
            resource,
        })
    }

    /// The account id, when the ARN names one.
    pub(super) fn account(&self) -> Option<&'a str> {
        (!self.account.is_empty()).then_some(self.account)
    }

    /// The region, when the ARN names one.
    pub(super) fn region(&self) -> Option<&'a str> {
        (!self.region.is_empty()).then_some(self.region)
    }
}

/// The asset kind of the resource an ARN names: IAM principals and
/// instance profiles are identities, S3 buckets, RDS databases and
/// DynamoDB tables are data stores, and every other resource is a cloud
/// resource.
pub(super) fn arn_kind(arn: &Arn<'_>) -> AssetKind {
    let resource_type = arn.resource.split(['/', ':']).next().unwrap_or_default();
    match (arn.service, resource_type) {
        ("iam", "user" | "role" | "group" | "root" | "instance-profile") => AssetKind::Identity,
        ("sts", "assumed-role" | "federated-user") => AssetKind::Identity,
        ("s3", _) | ("rds", "db" | "cluster") | ("dynamodb", "table") => AssetKind::DataStore,
        _ => AssetKind::CloudResource,
    }
}

/// The `aws_type` of the resource an ARN names: the names this parser
/// gives its own assets (`bucket`, `db-instance`, `lambda-function`,
/// `load-balancer`), else `<service>-<type>` (`iam-user`,
/// `sts-assumed-role`), or `unknown` for text that is no ARN.
pub(super) fn arn_type(text: &str) -> String {
    match Arn::parse(text) {
        Some(arn) => {
            let resource_type = arn.resource.split(['/', ':']).next().unwrap_or_default();
            match (arn.service, resource_type) {
                ("s3", _) => "bucket".to_string(),
                ("rds", "db") => "db-instance".to_string(),
                ("lambda", "function") => "lambda-function".to_string(),
                ("elasticloadbalancing", "loadbalancer") => "load-balancer".to_string(),
                (service, resource_type) => format!("{service}-{resource_type}"),
            }
        }
        None => "unknown".to_string(),
    }
}

/// The key of the resource an ARN names. The objects of a bucket
/// (`arn:aws:s3:::bucket/*` or `.../key`) are keyed as the bucket, so that
/// a permission on them leads to the bucket's asset.
pub(super) fn arn_key(text: &str) -> AssetKey {
    match Arn::parse(text) {
        Some(arn) if arn.service == "s3" => AssetKey::new(AssetKind::DataStore, &bucket_arn(arn.resource)),
        Some(arn) => AssetKey::new(arn_kind(&arn), text),
        None => AssetKey::new(AssetKind::CloudResource, text),
    }
}

/// The ARN of the bucket of an S3 resource (`bucket/key` gives the bucket).
fn bucket_arn(resource: &str) -> String {
    let bucket = resource.split('/').next().unwrap_or(resource);
    format!("arn:aws:s3:::{bucket}")
}

/// The key of an EC2 resource by its AWS-generated id (`i-`, `sg-`,
/// `subnet-`, `vpc-`, `eni-`, `pl-`): `aws:ec2:<type>/<id>`.
pub(super) fn ec2_key(resource_type: &str, id: &str) -> AssetKey {
    AssetKey::new(AssetKind::CloudResource, &format!("aws:ec2:{resource_type}/{id}"))
}

/// The key of a resource that the export names without an ARN and whose
/// id is unique only within an account and region:
/// `aws:<account or unknown>:<region or global>:<type>/<id>`.
pub(super) fn scoped_key(account: Option<&str>, region: Option<&str>, resource_type: &str, id: &str) -> AssetKey {
    let account = account.unwrap_or("unknown");
    let region = region.unwrap_or("global");
    AssetKey::new(
        AssetKind::CloudResource,
        &format!("aws:{account}:{region}:{resource_type}/{id}"),
    )
}

/// A new asset with the given key and name.
pub(super) fn asset_for(key: &AssetKey, name: &str) -> Asset {
    let kind = key.kind().unwrap_or(AssetKind::Other);
    let asset = Asset::new(kind, key.identifier(), name);
    debug_assert_eq!(&asset.key, key, "keys are rebuilt from their kind and identifier");
    asset
}

/// A stub for an EC2 resource that an export refers to by id.
pub(super) fn ec2_stub(resource_type: &str, id_kind: &str, id: &str) -> Asset {
    let mut asset = asset_for(&ec2_key(resource_type, id), id);
    asset.add_identifier(id_kind, id);
    asset.attributes.insert("aws_type".into(), resource_type.into());
    asset
}

/// A stub for a resource that an export refers to by ARN.
pub(super) fn arn_stub(arn: &str, resource_type: &str) -> Asset {
    let name = Arn::parse(arn)
        .map(|parts| parts.resource.rsplit(['/', ':']).next().unwrap_or(parts.resource))
        .filter(|name| !name.is_empty() && *name != "*")
        .unwrap_or(arn);
    let mut asset = asset_for(&arn_key(arn), name);
    asset.add_identifier("arn", arn);
    asset.attributes.insert("aws_type".into(), resource_type.into());
    asset
}

/// The asset of a network source: the internet for `0.0.0.0/0` and `::/0`,
/// else the address range.
pub(super) fn network(cidr: &str) -> Asset {
    if is_world(cidr) {
        let mut internet = Asset::new(AssetKind::Other, INTERNET, "internet");
        internet.internet_exposed = Some(true);
        return internet;
    }
    Asset::new(AssetKind::Other, &format!("network:{cidr}"), cidr).with_identifier("cidr", cidr)
}

/// Whether an address range is the whole internet.
pub(super) fn is_world(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

/// The region of an availability zone: the dash-separated parts up to the
/// first that starts with a digit, cut after its digits. So `us-east-1a`
/// is in `us-east-1`, and the local zone `us-west-2-lax-1a` in `us-west-2`.
pub(super) fn region_of_zone(zone: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in zone.split('-') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            parts.push(part.to_string());
            continue;
        }
        parts.push(digits);
        return (parts.len() >= 3).then(|| parts.join("-"));
    }
    None
}

/// Adds the tags of a resource as `tag:Key=Value`, and returns the value
/// of its `Name` tag.
pub(super) fn add_tags(asset: &mut Asset, tags: &[Tag]) -> Option<String> {
    let mut name = None;
    for tag in tags {
        let Some(key) = tag.key.as_deref().filter(|k| !k.is_empty()) else {
            continue;
        };
        let value = tag.value.as_deref().unwrap_or_default();
        let text = format!("tag:{key}={value}");
        if !asset.tags.contains(&text) {
            asset.tags.push(text);
        }
        if key == "Name" && !value.is_empty() {
            name = Some(value.to_string());
        }
    }
    name
}

/// Sets an attribute when the value is present and not empty.
pub(super) fn set(asset: &mut Asset, name: &str, value: Option<&str>) {
    if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
        asset.attributes.insert(name.to_string(), value.to_string());
    }
}

/// Adds an identifier when the value is present and not empty.
pub(super) fn identify(asset: &mut Asset, kind: &str, value: Option<&str>) {
    if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
        asset.add_identifier(kind, value);
    }
}

/// The scope target of a regional export: `aws:<account>:<region or
/// VPC>:<command>`, with `unknown` for a missing account.
pub(super) fn regional_target(account: Option<&str>, place: Option<&str>, command: &str) -> String {
    let account = account.filter(|a| !a.is_empty()).unwrap_or("unknown");
    match place.filter(|p| !p.is_empty()) {
        Some(place) => format!("aws:{account}:{place}:{command}"),
        None => format!("aws:{account}:{command}"),
    }
}

/// The scope target of a global export (IAM, S3 bucket list, STS):
/// `aws:<account>:<command>`.
pub(super) fn global_target(account: &str, command: &str) -> String {
    format!("aws:{account}:{command}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        let arn = Arn::parse("arn:aws:iam::123456789012:role/service-role/level1").unwrap();
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.region(), None);
        assert_eq!(arn.account(), Some("123456789012"));
        assert_eq!(arn.resource, "role/service-role/level1");
        assert_eq!(Arn::parse("sg-1234"), None);
        assert_eq!(Arn::parse("arn:aws:s3:::"), None);
    }

    #[test]
    fn arn_kinds() {
        let kind = |text: &str| arn_key(text).kind().unwrap();
        assert_eq!(kind("arn:aws:iam::1:user/alice"), AssetKind::Identity);
        assert_eq!(kind("arn:aws:iam::1:root"), AssetKind::Identity);
        assert_eq!(kind("arn:aws:iam::1:policy/x"), AssetKind::CloudResource);
        assert_eq!(kind("arn:aws:rds:us-east-1:1:db:main"), AssetKind::DataStore);
        assert_eq!(kind("arn:aws:lambda:us-east-1:1:function:f"), AssetKind::CloudResource);
    }

    #[test]
    fn bucket_objects_key_as_bucket() {
        let bucket = arn_key("arn:aws:s3:::payroll");
        assert_eq!(bucket.as_str(), "data_store:arn:aws:s3:::payroll");
        assert_eq!(arn_key("arn:aws:s3:::payroll/*"), bucket);
        assert_eq!(arn_key("arn:aws:s3:::payroll/2024/march.csv"), bucket);
    }

    #[test]
    fn zones_give_regions() {
        assert_eq!(region_of_zone("us-east-1a").as_deref(), Some("us-east-1"));
        assert_eq!(region_of_zone("us-west-2-lax-1a").as_deref(), Some("us-west-2"));
        assert_eq!(region_of_zone("us-gov-west-1b").as_deref(), Some("us-gov-west-1"));
        assert_eq!(region_of_zone("eu-central-1").as_deref(), Some("eu-central-1"));
        assert_eq!(region_of_zone("nowhere"), None);
        assert_eq!(region_of_zone("1a"), None);
    }

    #[test]
    fn world_sources() {
        assert_eq!(network("0.0.0.0/0").key.as_str(), "other:network:internet");
        assert_eq!(network("::/0").key.as_str(), "other:network:internet");
        assert_eq!(network("10.0.0.0/8").key.as_str(), "other:network:10.0.0.0/8");
    }
}
