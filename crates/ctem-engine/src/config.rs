//! `ctem.toml`: the scope of an assessment.
//!
//! The file names the crown jewels, the rules that set asset criticality,
//! exposure and owners, the threat intelligence files, how report paths
//! map to scope targets, the days to fix by tier, and the compensating
//! controls that the attack graph accounts for. Every field is optional, and an unknown field is an
//! error that names it, because a misspelt rule that silently matches
//! nothing would make the ranking wrong without a sign.
//!
//! ```toml
//! [intel]
//! kev = "intel/kev.json"
//! epss = ["intel/epss.csv"]
//!
//! [intel.sources.nvd]
//! enabled = true
//!
//! [[crown_jewels]]
//! name = "Payments database"
//! match = { kind = "host", name = "db-pay*.acme.internal" }
//!
//! [[assets]]
//! match = { cidr = ["203.0.113.0/24"] }
//! internet_exposed = true
//! criticality = "high"
//!
//! [[owners]]
//! owner = "platform-team"
//! match = { tags = ["platform"] }
//!
//! [[targets]]
//! path = "scans/nessus/*.nessus"
//! target = "internal-network"
//!
//! [sla]
//! P1 = 7
//!
//! [sla.criticality.crown_jewel]
//! P1 = 3
//!
//! [controls]
//! waf = 0.5
//!
//! [prioritization.deadlines]
//! kev_public = "3d"
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ctem_intel::sync::{DownloadSettings, SourceSettings, SyncOptions, plan};
use ctem_intel::taxii_feed::TaxiiSource;
use ctem_mobilize::config::TicketsConfig;
use ctem_model::{Asset, AssetKind, Criticality};
use globset::{Glob, GlobMatcher};
use ipnet::IpNet;
use serde::Deserialize;

use crate::prioritization::PrioritizationConfig;
use crate::sla::SlaConfig;

/// The largest configuration file ctem reads: far more than thousands of
/// rules need, and a guard against pointing `--config` at a huge file.
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// The whole of `ctem.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Threat intelligence files to enrich findings with.
    #[serde(default)]
    pub intel: IntelConfig,
    /// The assets an attacker must not reach. Each matching asset gets the
    /// criticality `crown_jewel`, whatever other rules set.
    #[serde(default)]
    pub crown_jewels: Vec<CrownJewel>,
    /// Rules that set criticality, exposure, owner, environment and tags on
    /// matching assets. Rules apply in order; a later rule overrides a field
    /// that an earlier one set.
    #[serde(default)]
    pub assets: Vec<AssetRule>,
    /// Owner rules for matching assets and findings. The first matching
    /// rule wins.
    #[serde(default)]
    pub owners: Vec<OwnerRule>,
    /// The default owner and the CODEOWNERS files of scanned repositories.
    #[serde(default)]
    pub ownership: OwnershipConfig,
    /// Scope targets for reports that name none, by report path. The first
    /// matching mapping wins; `--target` overrides them all.
    #[serde(default)]
    pub targets: Vec<TargetMapping>,
    /// Days to fix by tier and by asset criticality, for `ctem metrics`
    /// and `ctem sla`.
    #[serde(default)]
    pub sla: SlaConfig,
    /// Compensating controls that lower the success probability of attack
    /// path edges.
    #[serde(default)]
    pub controls: ControlsConfig,
    /// Inputs of the attack graph beyond the reports.
    #[serde(default)]
    pub attack_paths: AttackPathsConfig,
    /// Organization rules written in Rego (see docs/policy.md).
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Ticket sync with an issue tracker (see docs/tickets.md).
    pub tickets: Option<TicketsConfig>,
    /// The deadline table for tiered findings (see docs/prioritization.md).
    #[serde(default)]
    pub prioritization: PrioritizationConfig,
}

/// The `[policy]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Rego files of package `ctem` whose rules `tier`, `raise` and
    /// `accept` adjust each scored finding. Paths are relative to the
    /// folder of the configuration file.
    pub files: Vec<PathBuf>,
}

/// The `[attack_paths]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttackPathsConfig {
    /// BloodHound OpenGraph JSON files whose nodes and edges join the
    /// attack graph, such as Active Directory paths. Paths are relative
    /// to the folder of the configuration file.
    pub opengraph: Vec<PathBuf>,
}

/// Compensating controls, each a factor in (0, 1] that multiplies the
/// success probability of the attack path edges it addresses. 1.0, the
/// default, means no such control.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControlsConfig {
    /// A web application firewall in front of internet-exposed services:
    /// applies to exploits of web services reached from the internet.
    #[serde(deserialize_with = "waf_factor")]
    pub waf: f64,
    /// Network segmentation beyond security groups: applies to network
    /// reach from one host to another.
    #[serde(deserialize_with = "segmentation_factor")]
    pub segmentation: f64,
    /// Endpoint detection and response on hosts: applies to privilege
    /// escalation and credential access on hosts.
    #[serde(deserialize_with = "edr_factor")]
    pub edr: f64,
    /// Multi-factor authentication: applies to the use of stolen
    /// credentials.
    #[serde(deserialize_with = "mfa_factor")]
    pub mfa: f64,
}

/// Defines a deserializer of one control factor that accepts an integer
/// or a float in (0, 1] and names the field otherwise. The range is
/// checked here so that the error gets the value's line and column.
macro_rules! factor_deserializer {
    ($function:ident, $field:literal) => {
        fn $function<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
            let factor = match toml::Value::deserialize(deserializer)? {
                toml::Value::Float(value) => value,
                toml::Value::Integer(value) => value as f64,
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "controls.{}: expected a number in (0, 1], found {}",
                        $field,
                        crate::prioritization::with_article(other.type_str())
                    )));
                }
            };
            check_factor($field, factor).map_err(serde::de::Error::custom)
        }
    };
}

/// Checks a control factor: a number in (0, 1]. NaN fails too.
fn check_factor(name: &str, factor: f64) -> Result<f64, String> {
    if factor > 0.0 && factor <= 1.0 {
        Ok(factor)
    } else {
        Err(format!(
            "controls.{name}: invalid factor {factor}; expected a number in (0, 1], where 1.0 means no control and 0.5 halves the success probability of the attack steps it applies to"
        ))
    }
}

factor_deserializer!(waf_factor, "waf");
factor_deserializer!(segmentation_factor, "segmentation");
factor_deserializer!(edr_factor, "edr");
factor_deserializer!(mfa_factor, "mfa");

impl Default for ControlsConfig {
    fn default() -> Self {
        ControlsConfig {
            waf: 1.0,
            segmentation: 1.0,
            edr: 1.0,
            mfa: 1.0,
        }
    }
}

impl ControlsConfig {
    fn validate(&self) -> Result<(), String> {
        let fields = [
            ("waf", self.waf),
            ("segmentation", self.segmentation),
            ("edr", self.edr),
            ("mfa", self.mfa),
        ];
        for (name, factor) in fields {
            check_factor(name, factor)?;
        }
        Ok(())
    }

    /// Returns the controls as the attack graph rules and the risk model
    /// read them.
    pub fn to_controls(&self) -> ctem_model::Controls {
        ctem_model::Controls {
            waf: self.waf,
            segmentation: self.segmentation,
            edr: self.edr,
            mfa: self.mfa,
        }
    }
}

/// Paths are relative to the folder of the configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelConfig {
    /// A CISA Known Exploited Vulnerabilities catalog (JSON).
    pub kev: Option<PathBuf>,
    /// FIRST EPSS score files (CSV, optionally gzip-compressed).
    #[serde(default)]
    pub epss: Vec<PathBuf>,
    /// A folder to search for KEV and EPSS files, like `--intel`.
    pub dir: Option<PathBuf>,
    /// The intelligence cache folder that `ctem intel update` fills and
    /// `ctem assess` reads when no file above is named. `--intel-cache`
    /// and `CTEM_INTEL_CACHE` override it; default
    /// `$XDG_CACHE_HOME/ctem/intel` or `~/.cache/ctem/intel`.
    pub cache: Option<PathBuf>,
    /// Per source (`kev`, `epss`, `nvd`, ...): whether `ctem intel update`
    /// fetches it, from which URL, and its size limit.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSettings>,
    /// Timeouts and retries of `ctem intel update`.
    #[serde(default)]
    pub download: DownloadSettings,
    /// TAXII 2.1 collections that `ctem intel update` pulls into the cache.
    #[serde(default)]
    pub taxii: Vec<TaxiiSource>,
}

impl IntelConfig {
    /// Tells whether the configuration names intelligence files or a folder, in
    /// which case `ctem assess` does not read the cache.
    pub fn names_files(&self) -> bool {
        self.kev.is_some() || !self.epss.is_empty() || self.dir.is_some()
    }
}

/// Which assets a rule applies to. Every field that is set must match; a
/// selector with no field set matches nothing, so that an empty `match`
/// cannot raise every asset to crown jewel by accident.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// Asset kind: host, service, web_app, domain, container_image,
    /// component, repository, cloud_resource, identity,
    /// kubernetes_workload, credential, data_store or other.
    pub kind: Option<String>,
    /// A glob (`*`, `?`, `[a-z]`) matched against the asset's name, its key
    /// identifier and every identifier value (host names, URLs, image
    /// references), case-insensitively.
    pub name: Option<String>,
    /// Networks (CIDR notation) that one of the asset's IP addresses must be in.
    #[serde(default)]
    pub cidr: Vec<IpNet>,
    /// Tags that the asset must all carry.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A glob matched against the asset's cloud account: its
    /// `cloud_account` identifiers and its `account_id` attribute.
    pub cloud_account: Option<String>,
    /// A glob matched against the asset's code repository: the name and
    /// key identifier of a repository asset, and the `repository`
    /// identifiers and attribute of any asset.
    pub repository: Option<String>,
}

/// A named crown jewel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrownJewel {
    /// A name for reports, such as "Payments database".
    pub name: String,
    /// Why it matters, for reports.
    pub description: Option<String>,
    #[serde(rename = "match", deserialize_with = "checked_selector")]
    pub selector: Selector,
}

/// Attributes to set on matching assets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRule {
    /// A name for the rule, shown as the source of what it set.
    pub name: Option<String>,
    #[serde(rename = "match", deserialize_with = "checked_selector")]
    pub selector: Selector,
    /// low, medium, high or crown_jewel.
    pub criticality: Option<Criticality>,
    /// Whether the assets can be reached from the internet.
    pub internet_exposed: Option<bool>,
    /// The team or person who fixes the assets' findings.
    pub owner: Option<String>,
    /// Such as production, staging or test.
    pub environment: Option<String>,
    /// Tags to add.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The classification of the assets' data: public, internal,
    /// confidential or restricted. Sensitive data raises the impact of
    /// the assets' findings.
    pub data_classification: Option<String>,
}

/// An owner for matching assets and findings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerRule {
    /// A name for the rule, shown as the reason for the owner it chose.
    /// Default: `owners[INDEX]`.
    pub name: Option<String>,
    /// The team or person who fixes the findings. `owner` is accepted as
    /// an older spelling.
    #[serde(alias = "owner")]
    pub team: String,
    /// How to reach the team: e-mail addresses, chat channels or tracker
    /// user names.
    #[serde(default)]
    pub contacts: Vec<String>,
    /// The selector of the assets. Optional when `paths` is set.
    #[serde(rename = "match", default, deserialize_with = "checked_optional_selector")]
    pub selector: Option<Selector>,
    /// Globs matched against the file path of a finding (a SAST result, a
    /// secret, an IaC misconfiguration), such as `src/payments/**`. A rule
    /// with paths chooses the owner of each finding on its own, and it
    /// wins over CODEOWNERS and over rules without paths.
    #[serde(default)]
    pub paths: Vec<String>,
}

impl OwnerRule {
    /// Returns the rule's name, or `owners[INDEX]` when it has none.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => format!("owners \"{name}\""),
            None => format!("owners[{index}]"),
        }
    }
}

/// The `[ownership]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnershipConfig {
    /// The owner of findings that no rule, CODEOWNERS file or asset
    /// owner claims. Without it such findings have no owner.
    pub default_team: Option<String>,
    /// How to reach the default team.
    pub default_contacts: Vec<String>,
    /// CODEOWNERS files of the scanned repositories.
    pub codeowners: Vec<CodeownersFile>,
}

/// A CODEOWNERS file and the repository it belongs to. Set `file` or
/// `checkout`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeownersFile {
    /// The repository as its findings name it, such as
    /// `https://github.com/acme/shop-web`.
    pub repository: String,
    /// The CODEOWNERS file, relative to the folder of the configuration
    /// file.
    pub file: Option<PathBuf>,
    /// A checkout of the scanned repository, relative to the folder of the
    /// configuration file. Its CODEOWNERS file is found where GitHub and
    /// GitLab look: `.github/`, the root, `docs/`, then `.gitlab/`.
    pub checkout: Option<PathBuf>,
}

/// A scope target for reports at matching paths.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetMapping {
    /// A glob matched against the report's path relative to the
    /// configuration folder (and against the path as given).
    pub path: String,
    /// The scope target to use, such as "internal-network".
    pub target: String,
}

/// Returns the folder against which the paths of a configuration file
/// resolve: its parent, or `.` for a bare file name (`ctem.toml`, whose
/// parent is the empty path) and without a configuration file. The empty
/// path would not canonicalize, so globs relative to it would match nothing.
pub fn config_folder(config_path: Option<&Path>) -> &Path {
    config_path
        .and_then(Path::parent)
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let read_error = |source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read_error)?.len();
        if size > MAX_CONFIG_BYTES {
            return Err(ConfigError::Invalid {
                path: path.display().to_string(),
                message: format!("the file has {size} bytes; a configuration may have at most {MAX_CONFIG_BYTES}"),
            });
        }
        let text = crate::files::read_text(path, MAX_CONFIG_BYTES).map_err(|error| match error {
            crate::files::ReadTextError::Io(source) => read_error(source),
            invalid => ConfigError::Invalid {
                path: path.display().to_string(),
                message: invalid.to_string(),
            },
        })?;
        Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses and validates configuration text. The error names the line,
    /// the column and the field.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|error| describe_toml_error(text, &error))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let selectors = self
            .crown_jewels
            .iter()
            .map(|c| (format!("crown_jewels \"{}\"", c.name), &c.selector))
            .chain(
                self.assets
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("assets[{i}]"), &r.selector)),
            )
            .chain(
                self.owners
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| Some((format!("owners[{i}]"), r.selector.as_ref()?))),
            );
        for (place, selector) in selectors {
            selector.validate().map_err(|message| format!("{place}: {message}"))?;
        }
        if let Some(index) = self.crown_jewels.iter().position(|jewel| jewel.name.trim().is_empty()) {
            return Err(format!(
                "[[crown_jewels]] table number {} (counting from 1): name must not be empty; reports and \
                 `ctem paths --to` name the crown jewel by it",
                index + 1
            ));
        }
        self.validate_owners()?;
        plan(&self.intel.sources)?;
        SyncOptions::from_settings(&self.intel.download)?;
        for (index, mapping) in self.targets.iter().enumerate() {
            Glob::new(&mapping.path)
                .map_err(|error| format!("targets[{index}].path: invalid glob {:?}: {error}", mapping.path))?;
            if mapping.target.trim().is_empty() {
                return Err(format!("targets[{index}].target: must not be empty"));
            }
        }
        for (index, rule) in self.assets.iter().enumerate() {
            if let Some(classification) = &rule.data_classification {
                classification
                    .parse::<ctem_risk::DataClassification>()
                    .map_err(|message| format!("assets[{index}].data_classification: {message}"))?;
            }
        }
        self.controls.validate()?;
        if let Some(tickets) = &self.tickets {
            tickets.validate()?;
        }
        Ok(())
    }
}

impl Config {
    fn validate_owners(&self) -> Result<(), String> {
        for (index, rule) in self.owners.iter().enumerate() {
            if rule.team.trim().is_empty() {
                return Err(format!("owners[{index}].team: must not be empty"));
            }
            if rule.selector.is_none() && rule.paths.is_empty() {
                return Err(format!("owners[{index}]: set match, paths or both"));
            }
            for path in &rule.paths {
                Glob::new(path).map_err(|error| format!("owners[{index}].paths: invalid glob {path:?}: {error}"))?;
            }
        }
        if self
            .ownership
            .default_team
            .as_ref()
            .is_some_and(|team| team.trim().is_empty())
        {
            return Err("ownership.default_team: must not be empty".to_string());
        }
        for (index, file) in self.ownership.codeowners.iter().enumerate() {
            if file.repository.trim().is_empty() {
                return Err(format!("ownership.codeowners[{index}].repository: must not be empty"));
            }
            if file.file.is_some() == file.checkout.is_some() {
                return Err(format!("ownership.codeowners[{index}]: set either file or checkout"));
            }
        }
        Ok(())
    }
}

/// Reads a `match` table and checks it while the parser still has its
/// position, so that an unknown kind or an invalid glob gets the line and
/// column of the table.
fn checked_selector<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Selector, D::Error> {
    let selector = Selector::deserialize(deserializer)?;
    selector.validate().map_err(serde::de::Error::custom)?;
    Ok(selector)
}

/// [`checked_selector`] for a `match` table that may be left out.
fn checked_optional_selector<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Selector>, D::Error> {
    checked_selector(deserializer).map(Some)
}

impl Selector {
    fn validate(&self) -> Result<(), String> {
        if self.kind.is_none()
            && self.name.is_none()
            && self.cidr.is_empty()
            && self.tags.is_empty()
            && self.cloud_account.is_none()
            && self.repository.is_none()
        {
            return Err("match: set at least one of kind, name, cidr, tags, cloud_account or repository".to_string());
        }
        if let Some(kind) = &self.kind
            && AssetKind::parse(kind).is_none()
        {
            return Err(format!(
                "match.kind: unknown asset kind {kind:?}; expected host, service, web_app, domain, container_image, component, repository, cloud_resource, identity, kubernetes_workload, credential, data_store or other"
            ));
        }
        let globs = [
            ("name", &self.name),
            ("cloud_account", &self.cloud_account),
            ("repository", &self.repository),
        ];
        for (field, glob) in globs {
            if let Some(glob) = glob {
                Glob::new(glob).map_err(|error| format!("match.{field}: invalid glob {glob:?}: {error}"))?;
            }
        }
        Ok(())
    }

    /// Compiles the selector for matching. Call only on a validated selector.
    pub(crate) fn compile(&self) -> CompiledSelector {
        CompiledSelector {
            kind: self.kind.as_deref().and_then(AssetKind::parse),
            name: self.name.as_deref().map(compile_glob),
            cidr: self.cidr.clone(),
            tags: self.tags.clone(),
            cloud_account: self.cloud_account.as_deref().map(compile_glob),
            repository: self.repository.as_deref().map(compile_glob),
        }
    }
}

/// Compiles a case-insensitive glob. Call only on a validated glob.
pub(crate) fn compile_glob(glob: &str) -> GlobMatcher {
    globset::GlobBuilder::new(glob)
        .case_insensitive(true)
        .build()
        .expect("validated when the configuration was loaded")
        .compile_matcher()
}

/// A selector ready to match assets.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSelector {
    kind: Option<AssetKind>,
    name: Option<GlobMatcher>,
    cidr: Vec<IpNet>,
    tags: Vec<String>,
    cloud_account: Option<GlobMatcher>,
    repository: Option<GlobMatcher>,
}

impl CompiledSelector {
    pub(crate) fn matches(&self, asset: &Asset) -> bool {
        if self.kind.is_some_and(|kind| kind != asset.kind) {
            return false;
        }
        if let Some(glob) = &self.name {
            let mut names = std::iter::once(asset.name.as_str())
                .chain(std::iter::once(asset.key.identifier()))
                .chain(asset.identifiers.iter().map(|(_, value)| value.as_str()));
            if !names.any(|name| glob.is_match(name)) {
                return false;
            }
        }
        if !self.cidr.is_empty() {
            let in_network = asset_ips(asset).any(|ip| self.cidr.iter().any(|net| net.contains(&ip)));
            if !in_network {
                return false;
            }
        }
        if let Some(glob) = &self.cloud_account {
            let mut accounts = asset
                .identifier_values("cloud_account")
                .chain(asset.attributes.get("account_id").map(String::as_str));
            if !accounts.any(|account| glob.is_match(account)) {
                return false;
            }
        }
        if let Some(glob) = &self.repository {
            let own = (asset.kind == AssetKind::Repository)
                .then(|| [asset.name.as_str(), asset.key.identifier()])
                .into_iter()
                .flatten();
            let mut repositories = own
                .chain(asset.identifier_values("repository"))
                .chain(asset.attributes.get("repository").map(String::as_str));
            if !repositories.any(|repository| glob.is_match(repository)) {
                return false;
            }
        }
        self.tags.iter().all(|tag| asset.tags.contains(tag))
    }
}

/// Every IP address an asset is known by: its `ip` identifiers, and its key
/// identifier where that is an address (`host:10.0.0.5`) or starts with one
/// (`service:10.0.0.5:443/tcp`).
fn asset_ips(asset: &Asset) -> impl Iterator<Item = IpAddr> + '_ {
    let key = asset.key.identifier();
    let from_key = key
        .parse::<IpAddr>()
        .ok()
        .or_else(|| key.rsplit_once(':').and_then(|(host, _)| host.parse().ok()));
    asset
        .identifier_values("ip")
        .filter_map(|value| value.parse().ok())
        .chain(from_key)
}

/// Turns a toml error into one line with the position and, for an unknown
/// field, the valid names.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let mut message = error.message().trim().to_string();
    // serde names the Rust type where a table was expected
    // (`expected struct DeadlinesConfig`), so name a table instead.
    const STRUCT: &str = "expected struct ";
    if let Some(start) = message.find(STRUCT) {
        let name = &message[start + STRUCT.len()..];
        let length = name
            .find(|c: char| !c.is_alphanumeric() && c != '_')
            .unwrap_or(name.len());
        message.replace_range(start..start + STRUCT.len() + length, "expected a table");
    }
    if let Some(key) = credential_key(&message) {
        // The table header above the key, such as `[tickets.jira]`.
        let before = &text[..error.span().map_or(0, |span| span.start.min(text.len()))];
        let table = before
            .lines()
            .rev()
            .map(str::trim)
            .find(|line| line.starts_with('['))
            .map(|header| format!(" in {}", header.split('#').next().unwrap_or(header).trim()))
            .unwrap_or_default();
        message = format!(
            "unknown field `{key}`{table}: credentials never go in ctem.toml; remove it and put the value in \
             the environment variable that the table's `token_env` (`secret_env` for a webhook) names, or in \
             the file that its `token_file` names"
        );
    }
    match error.span() {
        Some(span) => {
            let (line, column) = crate::files::line_column(text, span.start);
            let found = text.get(span.clone()).unwrap_or("").trim();
            if found.is_empty() || found.len() > 80 || message.contains(found) {
                format!("line {line}, column {column}: {message}")
            } else {
                format!("line {line}, column {column}: {message} (found {found})")
            }
        }
        None => message,
    }
}

/// Returns the key of an unknown-field error when the key names a
/// credential, such as `token` or `api_token`.
fn credential_key(message: &str) -> Option<&str> {
    const CREDENTIALS: [&str; 10] = [
        "token",
        "api_token",
        "access_token",
        "private_token",
        "personal_access_token",
        "password",
        "secret",
        "api_key",
        "webhook_secret",
        "pat",
    ];
    let key = message.strip_prefix("unknown field `")?.split('`').next()?;
    CREDENTIALS.contains(&key.to_ascii_lowercase().as_str()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctem.toml");
        std::fs::write(&path, b"[sla]\nP1 = 3 # \xe2\x82\n").unwrap();

        let error = Config::load(&path).unwrap_err();

        assert!(matches!(error, ConfigError::Invalid { .. }), "{error}");
        assert!(error.to_string().contains("ctem.toml"), "{error}");
        assert!(
            error.to_string().contains("line 2, column 10: invalid UTF-8"),
            "{error}"
        );
    }

    #[test]
    fn parse_full_example() {
        let config = Config::parse(
            r#"
            [intel]
            kev = "intel/kev.json"
            epss = ["intel/epss.csv"]

            [[crown_jewels]]
            name = "Payments database"
            match = { kind = "host", name = "db-pay*" }

            [[assets]]
            match = { cidr = ["203.0.113.0/24"] }
            internet_exposed = true

            [[owners]]
            owner = "platform-team"
            match = { tags = ["platform"] }

            [[targets]]
            path = "scans/*.nessus"
            target = "internal-network"
            "#,
        )
        .unwrap();
        assert_eq!(config.crown_jewels.len(), 1);
        assert_eq!(config.intel.epss.len(), 1);
        assert_eq!(config.assets[0].internet_exposed, Some(true));
        assert_eq!(config.targets[0].target, "internal-network");
    }

    #[test]
    fn unknown_field_is_named() {
        let error =
            Config::parse("[[crown_jewels]]\nname = \"db\"\nmatch = { kind = \"host\" }\ncriticalty = \"high\"\n")
                .unwrap_err();
        assert!(error.contains("criticalty"), "{error}");
        assert!(error.contains("line 4"), "{error}");
    }

    #[test]
    fn unknown_top_level_table_is_named() {
        let error = Config::parse("[scoring]\nweight = 1\n").unwrap_err();
        assert!(error.contains("scoring"), "{error}");
        assert!(error.contains("crown_jewels"), "expected the valid names in {error}");
    }

    #[test]
    fn intel_sources_are_checked() {
        let config = Config::parse(
            "[intel]\ncache = \"feeds\"\n[intel.sources.kev]\nurl = \"http://127.0.0.1:8080/kev.json\"\n[intel.sources.nvd]\nenabled = true\n[intel.download]\nattempts = 2\n",
        )
        .unwrap();
        assert_eq!(config.intel.sources.len(), 2);
        assert_eq!(config.intel.download.attempts, Some(2));
        assert!(!config.intel.names_files());

        let cases = [
            ("[intel.sources.kevv]\nenabled = true\n", "intel.sources.kevv"),
            (
                "[intel.sources.kev]\nurl = \"ftp://example.org/kev.json\"\n",
                "unsupported scheme",
            ),
            ("[intel.sources.kev]\nurll = \"x\"\n", "urll"),
            ("[intel.download]\nattempts = 0\n", "attempts"),
            ("[intel.download]\nread_timeout_secs = -1.0\n", "read_timeout_secs"),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }

    #[test]
    fn empty_crown_jewel_name_rejected() {
        let text = "[[crown_jewels]]\nname = \"DB\"\nmatch = { kind = \"host\" }\n\n\
                    [[crown_jewels]]\nname = \" \"\nmatch = { kind = \"host\" }\n";
        let error = Config::parse(text).unwrap_err();
        assert!(
            error.contains("[[crown_jewels]] table number 2 (counting from 1): name must not be empty"),
            "{error}"
        );
    }

    #[test]
    fn empty_selector_is_rejected() {
        let error = Config::parse("[[assets]]\nmatch = {}\ncriticality = \"high\"\n").unwrap_err();
        assert!(
            error.contains("line 2, column 9: match: set at least one of"),
            "{error}"
        );
    }

    /// A selector's errors name the line and column of its `match` table,
    /// in every kind of rule.
    #[test]
    fn selector_errors_have_positions() {
        let cases = [
            (
                "[[crown_jewels]]\nname = \"X\"\nmatch = { kind = \"database\" }\n",
                "line 3, column 9: match.kind: unknown asset kind \"database\"",
            ),
            (
                "[[assets]]\nmatch = { kind = \"host\" }\n\n[[assets]]\nmatch = { name = \"[abc\" }\n",
                "line 5, column 9: match.name: invalid glob",
            ),
            (
                "[[owners]]\nteam = \"web\"\nmatch = { cloud_account = \"[\" }\n",
                "line 3, column 9: match.cloud_account: invalid glob",
            ),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }

    #[test]
    fn invalid_values_are_named() {
        let cases = [
            ("[[assets]]\nmatch = { kind = \"spaceship\" }\n", "spaceship"),
            ("[[assets]]\nmatch = { cidr = [\"10.0.0.0/99\"] }\n", "10.0.0.0/99"),
            ("[[assets]]\nmatch = { name = \"[\" }\n", "invalid glob"),
            (
                "[[assets]]\nmatch = { kind = \"host\" }\ncriticality = \"extreme\"\n",
                "extreme",
            ),
            ("[[targets]]\npath = \"a\"\ntarget = \" \"\n", "targets[0].target"),
            ("[[owners]]\nteam = \"web\"\n", "owners[0]: set match, paths or both"),
            (
                "[[owners]]\nteam = \" \"\npaths = [\"a\"]\n",
                "owners[0].team: must not be empty",
            ),
            (
                "[[owners]]\nteam = \"web\"\npaths = [\"src/[\"]\n",
                "owners[0].paths: invalid glob",
            ),
            (
                "[[owners]]\nteam = \"web\"\nmatch = { repository = \"[\" }\n",
                "match.repository: invalid glob",
            ),
            ("[[owners]]\nteam = \"web\"\nteams = \"x\"\n", "teams"),
            ("[ownership]\ndefault_team = \"\"\n", "ownership.default_team"),
            ("[ownership]\ncodeowners = [{ file = \"CODEOWNERS\" }]\n", "repository"),
            (
                "[ownership]\ncodeowners = [{ repository = \"r\" }]\n",
                "ownership.codeowners[0]: set either file or checkout",
            ),
            (
                "[ownership]\ncodeowners = [{ repository = \"r\", file = \"a\", checkout = \"b\" }]\n",
                "ownership.codeowners[0]: set either file or checkout",
            ),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }

    #[test]
    fn controls_default_to_no_control() {
        let config = Config::parse("").unwrap();
        assert_eq!(config.controls, ControlsConfig::default());
        assert_eq!(config.controls.to_controls(), ctem_graph::Controls::default());

        let config = Config::parse("[controls]\nwaf = 0.5\nmfa = 1\n").unwrap();
        assert_eq!(config.controls.waf, 0.5);
        assert_eq!(config.controls.mfa, 1.0);
        assert_eq!(config.controls.segmentation, 1.0);
    }

    #[test]
    fn invalid_controls_are_named() {
        let cases = [
            (
                "[controls]\nwaf = 0\n",
                "line 2, column 7: controls.waf: invalid factor 0",
            ),
            (
                "[controls]\nsegmentation = 1.5\n",
                "line 2, column 16: controls.segmentation",
            ),
            ("[controls]\nedr = -0.2\n", "line 2, column 7: controls.edr"),
            ("[controls]\nmfa = nan\n", "line 2, column 7: controls.mfa"),
            (
                "[controls]\nwaf = \"high\"\n",
                "controls.waf: expected a number in (0, 1], found a string",
            ),
            (
                "[controls]\nedr = [0.5]\n",
                "controls.edr: expected a number in (0, 1], found an array",
            ),
            ("[controls]\nfirewall = 0.5\n", "firewall"),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }

    #[test]
    fn config_value_for_table_is_named() {
        for text in [
            "[prioritization]\ndeadlines = 5\n",
            "controls = 5\n",
            "prioritization = \"none\"\n",
        ] {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains("expected a table"), "{text:?} gave {error}");
            assert!(!error.contains("struct"), "{text:?} gave {error}");
            assert!(error.contains("line "), "{text:?} gave {error}");
        }
    }

    #[test]
    fn truncated_file_names_position() {
        let error = Config::parse("[[crown_jewels]]\nname = \"db").unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn selector_matches_name_cidr_and_tags() {
        let mut asset = Asset::new(AssetKind::Host, "203.0.113.10", "www.acme.example");
        asset.tags.push("pci".into());
        let matching = Selector {
            kind: Some("host".into()),
            name: Some("WWW.*".into()),
            cidr: vec!["203.0.113.0/24".parse().unwrap()],
            tags: vec!["pci".into()],
            ..Selector::default()
        };
        assert!(matching.compile().matches(&asset));

        let other_network = Selector {
            cidr: vec!["10.0.0.0/8".parse().unwrap()],
            ..Selector::default()
        };
        assert!(!other_network.compile().matches(&asset));

        let service = Asset::new(AssetKind::Service, "203.0.113.10:443/tcp", "https");
        let by_cidr = Selector {
            cidr: vec!["203.0.113.0/24".parse().unwrap()],
            ..Selector::default()
        };
        assert!(by_cidr.compile().matches(&service));
    }

    #[test]
    fn selector_matches_cloud_account_and_repository() {
        let mut bucket = Asset::new(AssetKind::CloudResource, "arn:aws:s3:::exports", "exports");
        bucket.add_identifier("cloud_account", "aws:123456789012".to_string());
        let repository = Asset::new(AssetKind::Repository, "https://github.com/acme/shop-web", "shop-web");
        let by_account = Selector {
            cloud_account: Some("aws:1234*".into()),
            ..Selector::default()
        };
        let by_repository = Selector {
            repository: Some("https://github.com/ACME/*".into()),
            ..Selector::default()
        };
        assert!(by_account.compile().matches(&bucket));
        assert!(!by_account.compile().matches(&repository));
        assert!(by_repository.compile().matches(&repository));
        assert!(!by_repository.compile().matches(&bucket));
    }

    #[test]
    fn tickets_table_is_checked() {
        let base = "[tickets.jira]\nurl = \"https://acme.atlassian.net\"\nproject = \"SEC\"\n";
        let config = Config::parse(base).unwrap();
        assert_eq!(config.tickets.unwrap().jira.unwrap().project, "SEC");

        let error = Config::parse("[tickets]\nmax_create = 0\n").unwrap_err();
        assert!(error.contains("tickets.max_create"), "{error}");

        // Credentials belong in the environment or a token file: a token
        // in the file is an unknown field, and the message leaves its
        // value out.
        let error = Config::parse(&format!("{base}api_token = \"s3cr3t-value\"\n")).unwrap_err();
        assert!(error.contains("api_token"), "{error}");
        assert!(error.contains("line 4"), "{error}");
        assert!(error.contains("credentials never go in ctem.toml"), "{error}");
        assert!(error.contains("token_env"), "{error}");
        assert!(!error.contains("s3cr3t-value"), "{error}");

        // Another misspelt key keeps the list of the keys expected.
        let error = Config::parse(&format!("{base}tokens_env = \"X\"\n")).unwrap_err();
        assert!(error.contains("expected one of"), "{error}");
        assert!(!error.contains("credentials"), "{error}");
    }

    #[test]
    fn owner_accepts_older_field_name() {
        let config = Config::parse("[[owners]]\nowner = \"web\"\nmatch = { kind = \"host\" }\n").unwrap();
        assert_eq!(config.owners[0].team, "web");
        assert_eq!(config.owners[0].label(0), "owners[0]");
    }
}

#[cfg(test)]
mod hostile_input_tests {
    use super::*;

    #[test]
    fn deeply_nested_arrays_are_rejected() {
        let depth = 100_000;
        let text = format!("x = {}{}", "[".repeat(depth), "]".repeat(depth));
        let error = Config::parse(&text).unwrap_err();
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn binary_garbage_is_rejected() {
        let garbage = "\u{0}\u{1}\u{2}[[[\u{7f}";
        assert!(Config::parse(garbage).is_err());
    }

    #[test]
    fn many_rules_load() {
        let mut text = String::new();
        for index in 0..10_000 {
            text.push_str(&format!(
                "[[assets]]\nmatch = {{ name = \"host-{index}.acme.internal\" }}\ncriticality = \"high\"\n"
            ));
        }
        assert_eq!(Config::parse(&text).unwrap().assets.len(), 10_000);
    }
}
