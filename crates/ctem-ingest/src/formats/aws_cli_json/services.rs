//! Exports of data and compute services and of the caller's identity:
//! `s3api list-buckets`, `rds describe-db-instances`, `lambda
//! list-functions` and `sts get-caller-identity`.

use ctem_model::{Finding, FindingKind, RelationshipKind, Severity};
use serde::Deserialize;

use super::keys;
use super::{Export, TOOL, ec2};

/// One bucket of `list-buckets`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Bucket {
    name: Option<String>,
    creation_date: Option<String>,
    bucket_region: Option<String>,
}

/// The owner of the listed buckets.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Owner {
    #[serde(rename = "ID")]
    pub id: Option<String>,
    pub display_name: Option<String>,
}

/// One database of `describe-db-instances`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct DbInstance {
    #[serde(rename = "DBInstanceIdentifier")]
    identifier: Option<String>,
    #[serde(rename = "DBInstanceArn")]
    arn: Option<String>,
    #[serde(rename = "DBInstanceClass")]
    class: Option<String>,
    #[serde(rename = "DBInstanceStatus")]
    status: Option<String>,
    #[serde(rename = "DBName")]
    database_name: Option<String>,
    dbi_resource_id: Option<String>,
    engine: Option<String>,
    engine_version: Option<String>,
    endpoint: Option<Endpoint>,
    publicly_accessible: Option<bool>,
    storage_encrypted: Option<bool>,
    #[serde(rename = "MultiAZ")]
    multi_az: Option<bool>,
    availability_zone: Option<String>,
    vpc_security_groups: Vec<VpcGroup>,
    #[serde(rename = "DBSubnetGroup")]
    subnet_group: Option<SubnetGroup>,
    kms_key_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Endpoint {
    address: Option<String>,
    port: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct VpcGroup {
    vpc_security_group_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct SubnetGroup {
    vpc_id: Option<String>,
    subnets: Vec<GroupSubnet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct GroupSubnet {
    subnet_identifier: Option<String>,
}

/// One function of `list-functions`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Function {
    function_name: Option<String>,
    function_arn: Option<String>,
    role: Option<String>,
    runtime: Option<String>,
    handler: Option<String>,
    last_modified: Option<String>,
    version: Option<String>,
    package_type: Option<String>,
    vpc_config: Option<VpcConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct VpcConfig {
    security_group_ids: Vec<String>,
    subnet_ids: Vec<String>,
    vpc_id: Option<String>,
}

/// The output of `sts get-caller-identity`.
#[derive(Debug, Default)]
pub(super) struct CallerIdentity {
    pub account: Option<String>,
    pub arn: Option<String>,
    pub user_id: Option<String>,
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Sends a bucket as a data store keyed by its ARN. The scope target waits
/// for the owner, which the export may write after the buckets.
pub(super) fn bucket(export: &mut Export<'_>, bucket: Bucket) {
    let Some(name) = text(&bucket.name) else {
        return;
    };
    let arn = format!("arn:aws:s3:::{name}");
    let key = keys::arn_key(&arn);
    let mut asset = keys::asset_for(&key, name);
    asset.add_identifier("arn", arn.as_str());
    asset.add_identifier("bucket", name);
    asset.attributes.insert("aws_type".into(), "bucket".into());
    keys::set(&mut asset, "creation_date", text(&bucket.creation_date));
    keys::set(&mut asset, "region", text(&bucket.bucket_region));
    export.records.asset(asset);
    export.buckets += 1;
}

/// Sends a database: exposed when `PubliclyAccessible`, in its groups and
/// subnets, with a finding when it is publicly accessible.
pub(super) fn db_instance(export: &mut Export<'_>, db: DbInstance) {
    let Some(identifier) = text(&db.identifier) else {
        return;
    };
    let arn = text(&db.arn).and_then(keys::Arn::parse);
    let account = arn.as_ref().and_then(keys::Arn::account);
    let region = arn
        .as_ref()
        .and_then(keys::Arn::region)
        .map(str::to_string)
        .or_else(|| text(&db.availability_zone).and_then(keys::region_of_zone));
    let target = keys::regional_target(account, region.as_deref(), "rds-describe-db-instances");
    export.records.target(&target);

    let key = match text(&db.arn) {
        Some(arn) => keys::arn_key(arn),
        None => keys::scoped_key(account, region.as_deref(), "rds-db", identifier),
    };
    let mut asset = keys::asset_for(&key, identifier);
    keys::identify(&mut asset, "arn", text(&db.arn));
    asset.add_identifier("db_instance_id", identifier);
    keys::identify(&mut asset, "resource_id", text(&db.dbi_resource_id));
    keys::identify(&mut asset, "account", account);
    let endpoint = db.endpoint.as_ref();
    keys::identify(&mut asset, "dns", endpoint.and_then(|e| text(&e.address)));
    keys::identify(
        &mut asset,
        "vpc_id",
        db.subnet_group.as_ref().and_then(|group| text(&group.vpc_id)),
    );
    asset.attributes.insert("aws_type".into(), "db-instance".into());
    keys::set(&mut asset, "region", region.as_deref());
    keys::set(&mut asset, "availability_zone", text(&db.availability_zone));
    keys::set(&mut asset, "engine", text(&db.engine));
    keys::set(&mut asset, "engine_version", text(&db.engine_version));
    keys::set(&mut asset, "instance_class", text(&db.class));
    keys::set(&mut asset, "status", text(&db.status));
    keys::set(&mut asset, "database_name", text(&db.database_name));
    keys::set(&mut asset, "kms_key_id", text(&db.kms_key_id));
    let port = endpoint.and_then(|e| e.port).and_then(|p| u16::try_from(p).ok());
    keys::set(&mut asset, "port", port.map(|p| p.to_string()).as_deref());
    for (name, value) in [
        ("publicly_accessible", db.publicly_accessible),
        ("storage_encrypted", db.storage_encrypted),
        ("multi_az", db.multi_az),
    ] {
        keys::set(&mut asset, name, value.map(|v| v.to_string()).as_deref());
    }
    asset.internet_exposed = db.publicly_accessible;
    export.records.asset(asset);

    let group_ids: Vec<String> = db
        .vpc_security_groups
        .iter()
        .filter_map(|group| text(&group.vpc_security_group_id).map(str::to_string))
        .collect();
    ec2::join_group_ids(export, &key, &group_ids);
    for subnet in db.subnet_group.iter().flat_map(|group| &group.subnets) {
        ec2::join_subnet(export, &key, text(&subnet.subnet_identifier));
    }

    if db.publicly_accessible == Some(true) {
        let mut finding = Finding::new(
            TOOL,
            "aws-rds-publicly-accessible",
            FindingKind::Misconfiguration,
            format!("RDS database {identifier} is publicly accessible"),
            Severity::Medium,
            key.clone(),
        );
        finding.description = Some(format!(
            "The database {identifier} has PubliclyAccessible set, so it has a public address and only its \
             security groups stand between it and the internet."
        ));
        finding.location.port = port;
        finding.location.protocol = port.map(|_| "tcp".to_string());
        finding.fix.description = Some(
            "Turn off PubliclyAccessible (modify-db-instance --no-publicly-accessible) and reach the database \
             from inside the VPC."
                .to_string(),
        );
        finding.references.push(
            "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html"
                .to_string(),
        );
        finding.target = Some(target);
        export.records.finding(finding);
    }
}

/// Sends a function, which can assume its execution role, in its VPC's
/// groups and subnets.
pub(super) fn function(export: &mut Export<'_>, function: Function) {
    let Some(arn) = text(&function.function_arn) else {
        return;
    };
    let parts = keys::Arn::parse(arn);
    let account = parts.as_ref().and_then(keys::Arn::account);
    let region = parts.as_ref().and_then(keys::Arn::region);
    export
        .records
        .target(&keys::regional_target(account, region, "lambda-list-functions"));

    let key = keys::arn_key(arn);
    let name = text(&function.function_name).unwrap_or(arn);
    let mut asset = keys::asset_for(&key, name);
    asset.add_identifier("arn", arn);
    keys::identify(&mut asset, "function_name", text(&function.function_name));
    keys::identify(&mut asset, "account", account);
    let vpc = function.vpc_config.as_ref();
    keys::identify(&mut asset, "vpc_id", vpc.and_then(|config| text(&config.vpc_id)));
    asset.attributes.insert("aws_type".into(), "lambda-function".into());
    keys::set(&mut asset, "region", region);
    keys::set(&mut asset, "runtime", text(&function.runtime));
    keys::set(&mut asset, "handler", text(&function.handler));
    keys::set(&mut asset, "last_modified", text(&function.last_modified));
    keys::set(&mut asset, "version", text(&function.version));
    keys::set(&mut asset, "package_type", text(&function.package_type));
    export.records.asset(asset);

    if let Some(role) = text(&function.role) {
        let stub = keys::arn_stub(role, "iam-role");
        export
            .records
            .link(&key, RelationshipKind::CanAssume, &stub.key.clone());
        export.records.stub(stub);
    }
    if let Some(config) = vpc {
        ec2::join_group_ids(export, &key, &config.security_group_ids);
        for subnet in &config.subnet_ids {
            ec2::join_subnet(export, &key, Some(subnet.as_str()).filter(|s| !s.is_empty()));
        }
    }
}

/// Sends the identity that ran the export.
pub(super) fn caller_identity(export: &mut Export<'_>, caller: &CallerIdentity) {
    let Some(arn) = text(&caller.arn) else {
        return;
    };
    let account = text(&caller.account).or_else(|| keys::Arn::parse(arn).and_then(|parts| parts.account()));
    if let Some(account) = account {
        export
            .records
            .target(&keys::global_target(account, "sts-get-caller-identity"));
    }
    let mut asset = keys::arn_stub(arn, &keys::arn_type(arn));
    keys::identify(&mut asset, "account", account);
    keys::identify(&mut asset, "user_id", text(&caller.user_id));
    export.records.asset(asset);
}
