//! AWS CLI exports: the JSON that `aws <service> <command> --output json`
//! prints, read as an inventory of assets and relationships for the
//! attack graph, with findings only for clear exposures.
//!
//! # Reads
//!
//! One parser for every command below, because users export a folder of
//! them; each file's shape is recognised by its top-level key. AWS CLI v1
//! and v2 print the same shapes (the API's response elements).
//!
//! | command | top-level key |
//! | --- | --- |
//! | `ec2 describe-instances` | `Reservations` |
//! | `ec2 describe-security-groups` | `SecurityGroups` |
//! | `ec2 describe-subnets` | `Subnets` |
//! | `ec2 describe-vpcs` | `Vpcs` |
//! | `ec2 describe-network-interfaces` | `NetworkInterfaces` |
//! | `elb describe-load-balancers` | `LoadBalancerDescriptions` |
//! | `elbv2 describe-load-balancers` | `LoadBalancers` |
//! | `iam get-account-authorization-details` | `UserDetailList`, `GroupDetailList`, `RoleDetailList`, `Policies` |
//! | `iam get-credential-report` | `Content` (CSV, plain or base64) with `ReportFormat`; or the decoded CSV file itself |
//! | `s3api list-buckets` | `Buckets` and `Owner` |
//! | `rds describe-db-instances` | `DBInstances` |
//! | `lambda list-functions` | `Functions` |
//! | `sts get-caller-identity` | `Account`, `Arn`, `UserId` |
//!
//! Paging keys (`NextToken`, `Marker`, `IsTruncated`) and boto3's
//! `ResponseMetadata` are skipped. The big arrays are read one record at a
//! time.
//!
//! # Field mapping
//!
//! Every resource becomes an asset with the attribute `aws_type`
//! (`instance`, `security-group`, `subnet`, `vpc`, `network-interface`,
//! `load-balancer`, `iam-user`, `iam-group`, `iam-role`,
//! `iam-instance-profile`, `iam-policy`, `bucket`, `db-instance`,
//! `lambda-function`), its ids as identifiers (`arn`, `instance_id`,
//! `security_group_id`, `subnet_id`, `vpc_id`, `eni_id`, `account`,
//! `private_ip`, `public_ip` and `ip` for both, `private_dns`,
//! `public_dns`, `dns`, `cidr`, `mac`...), facts as attributes (`region`,
//! `availability_zone`, `state`, `instance_type`, `engine`...), and its
//! tags as `tag:Key=Value` (the `Name` tag also names the asset).
//!
//! - Instances: `MemberOf` their subnet and every security group of the
//!   instance and its interfaces; `CanAssume` their instance profile.
//!   `internet_exposed` stays unset even with a public address, because
//!   the export does not hold the groups' rules: the graph joins the
//!   `public_ip` with the edges from the internet that
//!   describe-security-groups gives.
//! - Security groups: `MemberOf` their VPC. Each source of each ingress
//!   rule gives a `NetworkReach` edge from the source to the group: the
//!   internet (asset `other:network:internet`) for `0.0.0.0/0` and `::/0`,
//!   a network asset (`other:network:<cidr>`) for other ranges, the source
//!   group for `UserIdGroupPairs`, the prefix list for `PrefixListIds`.
//!   The protocol is `tcp`, `udp`, `icmp`, `icmpv6`, a protocol number, or
//!   `all` for `-1`. A port range of at most 16 ports gives one edge per
//!   port; a wider one gives one edge with no port and the range in the
//!   protocol (`tcp:1024-65535`); ICMP and `all` have no port. Egress
//!   rules are not read.
//! - Subnets: `MemberOf` their VPC; `MapPublicIpOnLaunch` as
//!   `map_public_ip_on_launch`.
//! - Network interfaces: `MemberOf` their subnet and groups, `RoutesTo`
//!   the instance they are attached to.
//! - Classic load balancers: `internet_exposed` from `Scheme`
//!   (`internet-facing` is true, `internal` false); when internet-facing,
//!   a `NetworkReach` edge from the internet per listener port; `RoutesTo`
//!   each instance on each listener's instance port; `MemberOf` their
//!   groups and subnets. Elbv2 load balancers likewise, with one edge from
//!   the internet without port, since this export has no listeners.
//! - IAM: users, groups, roles and instance profiles are identities,
//!   managed policies cloud resources. Users are `MemberOf` their groups;
//!   an instance profile `CanAssume` its roles; each principal of a role's
//!   trust policy `CanAssume` the role (an account id as its root ARN,
//!   `*` as `identity:aws:principal:*`, services as
//!   `identity:aws:service:<service>`). Each `Allow` statement of a
//!   principal's inline policies and of the default version of its
//!   attached managed policies gives `CanRead` and `CanWrite` edges from
//!   the principal to each resource, by the action's verb: `Get`, `List`,
//!   `Describe`, `Head`, `BatchGet`, `Select`, `Scan` and `Query` read;
//!   `Put`, `Delete`, `Create`, `Update`, `Modify`, `Attach`, `Detach`,
//!   `Upload`, `BatchWrite`, `Write`, `Replace`, `Restore`, `Copy`,
//!   `Abort`, `Tag`, `Untag`, `Set`, `Add` and `Remove` write; `*` and
//!   `service:*` do both; `sts:AssumeRole*` gives `CanAssume`; other
//!   verbs give no edge. A `Resource` of `*` is narrowed to the action's
//!   service (`arn:aws:s3:*`). A resource with a wildcard or a policy
//!   variable becomes an asset of kind `other` keyed
//!   `aws-pattern:<resource>`, for the graph to match against known ARNs;
//!   the objects of one bucket (`arn:aws:s3:::b/*`) lead to the bucket.
//!   `Deny`, `NotAction`, `NotResource` and conditions are not evaluated,
//!   so the edges over-approximate. Group permissions are not copied to
//!   members: the graph follows `MemberOf`.
//! - Credential report: each row updates its user (or the root account)
//!   with the report's columns as attributes.
//! - S3 buckets, RDS databases: data stores; a database is `MemberOf` its
//!   groups and subnets, with `internet_exposed` from
//!   `PubliclyAccessible`. Lambda functions `CanAssume` their role and are
//!   `MemberOf` their VPC's groups and subnets.
//! - The caller identity of `sts get-caller-identity` is an identity.
//!
//! # Asset keys
//!
//! - A resource the export names by ARN is keyed by its ARN
//!   (`identity:arn:aws:iam::123456789012:role/app`,
//!   `data_store:arn:aws:s3:::payroll` for a bucket,
//!   `cloud_resource:arn:aws:lambda:...`).
//! - EC2 resources with AWS-generated ids (instances, security groups,
//!   subnets, VPCs, network interfaces, prefix lists) are keyed
//!   `cloud_resource:aws:ec2:<type>/<id>` without account or region:
//!   the exports that name them disagree on whether they show the account
//!   and region (a security group export shows no region, a subnet export
//!   of an old CLI no account), and one instance must have one key in all
//!   of them. The account and region stay as identifier and attribute.
//! - Other resources without an ARN in the export are keyed
//!   `cloud_resource:aws:<account or unknown>:<region or global>:<type>/<id>`:
//!   classic load balancers (`elb/<name>`) and databases of old exports
//!   without `DBInstanceArn` (`rds-db/<id>`).
//!
//! # Scope target
//!
//! Each record declares the scope `aws:<account>:<place>:<command>` (tool
//! `aws`), where `<command>` is the export (`ec2-describe-instances`...),
//! and `<place>` the region where the records show one, else the VPC
//! (security groups and VPCs show no region), and is left out for global
//! exports (IAM, S3 bucket lists, STS). The account is `unknown` where the
//! export does not show it; for a bucket list, the owner's canonical user
//! id stands in for it. The command is part of the target so that a clean
//! credential report does not close the findings of a security group
//! export of the same account. An export with no record declares
//! [`ParseContext::default_target`].
//!
//! # Findings
//!
//! Only clear exposures, all of kind `Misconfiguration`:
//!
//! | rule | when | severity |
//! | --- | --- | --- |
//! | `aws-security-group-open-port` | an ingress rule from `0.0.0.0/0` or `::/0` allows a sensitive TCP port (SSH, Telnet, SMB, RDP, VNC, Docker API, MySQL, PostgreSQL, SQL Server, Oracle, Redis, Elasticsearch, Memcached, MongoDB) | High |
//! | `aws-security-group-open-all-ports` | an ingress rule from the internet allows every TCP port (or all traffic) | High |
//! | `aws-rds-publicly-accessible` | a database has `PubliclyAccessible` | Medium (its groups may still block the internet) |
//! | `aws-iam-role-trusts-any-principal` | a trust policy allows `*` to assume a role without a condition | Critical |
//! | `aws-iam-root-without-mfa` | the credential report's root row has no MFA | Critical |
//! | `aws-iam-root-access-key` | the root account has an active access key | Critical |
//! | `aws-iam-user-console-without-mfa` | a user has a console password and no MFA | High |
//! | `aws-iam-access-key-not-rotated` | an active access key was last rotated more than 90 days before the report was generated | Medium |
//!
//! # Fingerprint
//!
//! Tool `aws`, the rule id, the asset key (an ARN or an id, which never
//! drift), and the port and protocol of security group findings or the
//! access key (`access_key_1`, `access_key_2`, in `location.parameter`)
//! of credential report findings.
//!
//! # Not read yet
//!
//! Egress rules, network ACLs, route tables, internet gateways and VPC
//! peering (a route to an internet gateway is what makes a subnet
//! public); elbv2 listeners and target groups; bucket ACLs and policies
//! (`list-buckets` has none, so public buckets are not found); resource
//! policies; the `Deny` statements, conditions and permission boundaries
//! of IAM policies; other services' exports.
//!
//! # Reference
//!
//! The AWS CLI command reference, <https://docs.aws.amazon.com/cli/latest/>,
//! and the response elements of the EC2, ELB, IAM, S3, RDS, Lambda and STS
//! API references; the credential report's columns:
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html>.

use std::collections::BTreeSet;
use std::fmt;
use std::io::BufRead;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::formats::inventory_shared::{self, EachElement, Records};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

mod credential_report;
mod ec2;
mod elb;
mod iam;
mod keys;
mod rules;
mod services;

const FORMAT_ID: &str = "aws-cli-json";
const TOOL: &str = "aws";

/// The top-level keys that name a shape, with a key that records of the
/// shape have (so that a head with records is `Certain`).
const SHAPES: &[(&str, &str)] = &[
    ("Reservations", "\"InstanceId\""),
    ("SecurityGroups", "\"IpPermissions\""),
    ("Subnets", "\"SubnetId\""),
    ("Vpcs", "\"VpcId\""),
    ("NetworkInterfaces", "\"NetworkInterfaceId\""),
    ("LoadBalancerDescriptions", "\"LoadBalancerName\""),
    ("LoadBalancers", "\"LoadBalancerArn\""),
    ("UserDetailList", ""),
    ("GroupDetailList", ""),
    ("RoleDetailList", ""),
    ("Policies", "\"PolicyVersionList\""),
    ("DBInstances", "\"DBInstanceIdentifier\""),
    ("Functions", "\"FunctionArn\""),
    ("Buckets", "\"Owner\""),
    ("Content", "\"ReportFormat\""),
    ("Account", "\"UserId\""),
];

/// Keys that may stand beside a shape's key.
const COMPANION_KEYS: &[&str] = &[
    "NextToken",
    "Marker",
    "NextMarker",
    "IsTruncated",
    "ResponseMetadata",
    "Owner",
    "GeneratedTime",
    "ReportFormat",
    "Arn",
    "UserId",
];

/// The header that opens a credential report.
const CREDENTIAL_REPORT_HEADER: &[u8] = b"user,arn,user_creation_time";

/// The AWS CLI export parser.
pub struct AwsCliJson;

impl Parser for AwsCliJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "AWS CLI JSON exports",
            tool: "AWS CLI",
            versions: "AWS CLI v1 and v2: ec2 describe-instances, -security-groups, -subnets, -vpcs, \
                       -network-interfaces; elb and elbv2 describe-load-balancers; iam \
                       get-account-authorization-details, get-credential-report (JSON or CSV); s3api \
                       list-buckets; rds describe-db-instances; lambda list-functions; sts get-caller-identity",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        if util::trim_start(head).starts_with(CREDENTIAL_REPORT_HEADER) {
            return Detection::Certain;
        }
        let Some(keys) = inventory_shared::json_head_keys(head) else {
            return Detection::No;
        };
        let shapes: Vec<&(&str, &str)> = SHAPES.iter().filter(|(key, _)| keys.iter().any(|k| k == key)).collect();
        let others = keys
            .iter()
            .any(|key| !SHAPES.iter().any(|(shape, _)| shape == key) && !COMPANION_KEYS.contains(&key.as_str()));
        if shapes.is_empty() || others {
            return Detection::No;
        }
        let marked = shapes
            .iter()
            .any(|(_, marker)| marker.is_empty() || util::contains(head, marker.as_bytes()));
        let arn = util::contains(head, b"arn:aws");
        match shapes.first().map(|(key, _)| *key) {
            // These keys are common words: only the companions make them AWS.
            Some("Buckets" | "Content" | "Account") if !marked => Detection::No,
            Some("Account") if !arn => Detection::No,
            _ if marked => Detection::Certain,
            _ => Detection::Maybe,
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let first = inventory_shared::first_byte(reader).map_err(|error| read_error(context, &error))?;
        let mut export = Export {
            records: Records::new(TOOL, sink),
            joins: iam::Joins::default(),
            buckets: 0,
            owner: None,
            caller: services::CallerIdentity::default(),
            content: None,
            generated: None,
            report_format: None,
            shapes: BTreeSet::new(),
            other_keys: Vec::new(),
        };

        match first {
            Some(b'{') => read_json(context, reader, &mut export)?,
            Some(b'u') => {
                credential_report::report(&mut export, reader, None).map_err(|error| {
                    let position = error.line.map(|line| Position::LineColumn { line, column: 1 });
                    ParseError::new(context.path, FORMAT_ID, position, error.message)
                })?;
                export.shapes.insert("credential report CSV");
            }
            None => {
                return Err(ParseError::new(
                    context.path,
                    FORMAT_ID,
                    None,
                    "the file is empty: expected the JSON output of an AWS CLI command",
                ));
            }
            Some(_) => {
                return Err(ParseError::new(
                    context.path,
                    FORMAT_ID,
                    Some(Position::LineColumn { line: 1, column: 1 }),
                    "not an AWS CLI export: expected a JSON object (aws ... --output json) or the CSV of an IAM \
                     credential report",
                ));
            }
        }

        if !export.records.has_targets() {
            export.records.target(context.default_target);
        }
        export.records.finish();
        Ok(())
    }
}

fn read_error(context: &ParseContext<'_>, error: &std::io::Error) -> ParseError {
    ParseError::new(context.path, FORMAT_ID, None, format!("read failed: {error}"))
}

/// The state of one export while it is read.
pub(super) struct Export<'s> {
    records: Records<'s>,
    joins: iam::Joins,
    buckets: usize,
    owner: Option<services::Owner>,
    caller: services::CallerIdentity,
    content: Option<String>,
    generated: Option<String>,
    report_format: Option<String>,
    /// The shapes seen, by top-level key.
    shapes: BTreeSet<&'static str>,
    /// Top-level keys that name no shape, for the error message.
    other_keys: Vec<String>,
}

fn read_json(context: &ParseContext<'_>, reader: &mut dyn BufRead, export: &mut Export<'_>) -> Result<(), ParseError> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    deserializer
        .deserialize_map(Root { export: &mut *export })
        .and_then(|()| deserializer.end())
        .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;

    if let Some(content) = export.content.take() {
        if let Some(format) = export.report_format.as_deref().filter(|f| *f != "text/csv") {
            return Err(ParseError::new(
                context.path,
                FORMAT_ID,
                None,
                format!("unsupported credential report format {format:?}: this parser reads text/csv"),
            ));
        }
        let csv = credential_report::decode_content(&content)
            .map_err(|message| ParseError::new(context.path, FORMAT_ID, None, message))?;
        let generated = export.generated.take();
        credential_report::report(export, csv.as_bytes(), generated.as_deref()).map_err(|error| {
            let at = error
                .line
                .map(|line| format!(" (line {line} of the CSV in Content)"))
                .unwrap_or_default();
            ParseError::new(context.path, FORMAT_ID, None, format!("{}{at}", error.message))
        })?;
    }
    if export.caller.arn.is_some() {
        let caller = std::mem::take(&mut export.caller);
        services::caller_identity(export, &caller);
    }
    if export.shapes.contains("Buckets")
        && export.buckets > 0
        && let Some(owner) = export
            .owner
            .as_ref()
            .and_then(|o| o.id.clone())
            .filter(|id| !id.is_empty())
    {
        export
            .records
            .target(&keys::global_target(&owner, "s3api-list-buckets"));
    }
    iam::finish(export);

    if export.shapes.is_empty() {
        let found = if export.other_keys.is_empty() {
            "an empty object".to_string()
        } else {
            format!("the top-level keys {}", export.other_keys.join(", "))
        };
        let expected: Vec<&str> = SHAPES.iter().map(|(key, _)| *key).collect();
        return Err(ParseError::new(
            context.path,
            FORMAT_ID,
            None,
            format!(
                "not an AWS CLI export this parser reads: found {found}; expected one of the top-level keys {}",
                expected.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Reads the top-level object, handing each record of a known array to
/// its shape's function as it is read.
struct Root<'e, 's> {
    export: &'e mut Export<'s>,
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("the JSON object that an AWS CLI command prints")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let export = self.export;
        while let Some(key) = map.next_key::<String>()? {
            let shape = SHAPES.iter().map(|(shape, _)| *shape).find(|shape| *shape == key);
            if let Some(shape) = shape {
                export.shapes.insert(shape);
            }
            match key.as_str() {
                "Reservations" => map.next_value_seed(EachElement::new(|r| ec2::reservation(export, r)))?,
                "SecurityGroups" => map.next_value_seed(EachElement::new(|g| ec2::security_group(export, g)))?,
                "Subnets" => map.next_value_seed(EachElement::new(|s| ec2::subnet(export, s)))?,
                "Vpcs" => map.next_value_seed(EachElement::new(|v| ec2::vpc(export, v)))?,
                "NetworkInterfaces" => map.next_value_seed(EachElement::new(|i| ec2::network_interface(export, i)))?,
                "LoadBalancerDescriptions" => map.next_value_seed(EachElement::new(|b| elb::classic(export, b)))?,
                "LoadBalancers" => map.next_value_seed(EachElement::new(|b| elb::v2(export, b)))?,
                "UserDetailList" => map.next_value_seed(EachElement::new(|u| iam::user(export, u)))?,
                "GroupDetailList" => map.next_value_seed(EachElement::new(|g| iam::group(export, g)))?,
                "RoleDetailList" => map.next_value_seed(EachElement::new(|r| iam::role(export, r)))?,
                "Policies" => map.next_value_seed(EachElement::new(|p| iam::managed_policy(export, p)))?,
                "DBInstances" => map.next_value_seed(EachElement::new(|d| services::db_instance(export, d)))?,
                "Functions" => map.next_value_seed(EachElement::new(|f| services::function(export, f)))?,
                "Buckets" => map.next_value_seed(EachElement::new(|b| services::bucket(export, b)))?,
                "Owner" => export.owner = map.next_value()?,
                "Content" => export.content = map.next_value()?,
                "GeneratedTime" => export.generated = map.next_value()?,
                "ReportFormat" => export.report_format = map.next_value()?,
                "Account" => export.caller.account = map.next_value()?,
                "Arn" => export.caller.arn = map.next_value()?,
                "UserId" => export.caller.user_id = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    if !COMPANION_KEYS.contains(&key.as_str()) {
                        export.other_keys.push(key);
                    }
                }
            }
        }
        Ok(())
    }
}
