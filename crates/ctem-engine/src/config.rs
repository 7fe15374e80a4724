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
    /// Owner rules for matching assets. The first matching rule wins.
    #[serde(default)]
    pub owners: Vec<OwnerRule>,
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
    /// How findings are tiered and given deadlines (see docs/prioritization.md).
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
/// or a float and names the field when the value is of another type.
macro_rules! factor_deserializer {
    ($function:ident, $field:literal) => {
        fn $function<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
            match toml::Value::deserialize(deserializer)? {
                toml::Value::Float(value) => Ok(value),
                toml::Value::Integer(value) => Ok(value as f64),
                other => Err(serde::de::Error::custom(format!(
                    "controls.{}: expected a number in (0, 1], found a {}",
                    $field,
                    other.type_str()
                ))),
            }
        }
    };
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
            // Written so that NaN fails too.
            if !(factor > 0.0 && factor <= 1.0) {
                return Err(format!(
                    "controls.{name}: invalid factor {factor}; expected a number in (0, 1], where 1.0 means no control and 0.5 halves the success probability of the attack steps it applies to"
                ));
            }
        }
        Ok(())
    }

    /// The controls as the attack graph rules read them.
    pub fn to_graph(&self) -> ctem_graph::Controls {
        ctem_graph::Controls {
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
}

/// A named crown jewel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrownJewel {
    /// A name for reports, such as "Payments database".
    pub name: String,
    /// Why it matters, for reports.
    pub description: Option<String>,
    #[serde(rename = "match")]
    pub selector: Selector,
}

/// Attributes to set on matching assets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetRule {
    /// A name for the rule, shown as the source of what it set.
    pub name: Option<String>,
    #[serde(rename = "match")]
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

/// An owner for matching assets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerRule {
    /// The team or person.
    pub owner: String,
    #[serde(rename = "match")]
    pub selector: Selector,
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
        let text = std::fs::read_to_string(path).map_err(read_error)?;
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
                    .map(|(i, r)| (format!("owners[{i}]"), &r.selector)),
            );
        for (place, selector) in selectors {
            selector.validate().map_err(|message| format!("{place}: {message}"))?;
        }
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
        Ok(())
    }
}

impl Selector {
    fn validate(&self) -> Result<(), String> {
        if self.kind.is_none() && self.name.is_none() && self.cidr.is_empty() && self.tags.is_empty() {
            return Err("match: set at least one of kind, name, cidr or tags".to_string());
        }
        if let Some(kind) = &self.kind
            && AssetKind::parse(kind).is_none()
        {
            return Err(format!(
                "match.kind: unknown asset kind {kind:?}; expected host, service, web_app, domain, container_image, component, repository, cloud_resource, identity, kubernetes_workload, credential, data_store or other"
            ));
        }
        if let Some(name) = &self.name {
            Glob::new(name).map_err(|error| format!("match.name: invalid glob {name:?}: {error}"))?;
        }
        Ok(())
    }

    /// Compiles the selector for matching. Call only on a validated selector.
    pub(crate) fn compile(&self) -> CompiledSelector {
        CompiledSelector {
            kind: self.kind.as_deref().and_then(AssetKind::parse),
            name: self.name.as_deref().map(|glob| {
                globset::GlobBuilder::new(glob)
                    .case_insensitive(true)
                    .build()
                    .expect("validated when the configuration was loaded")
                    .compile_matcher()
            }),
            cidr: self.cidr.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// A selector ready to match assets.
#[derive(Debug, Clone)]
pub(crate) struct CompiledSelector {
    kind: Option<AssetKind>,
    name: Option<GlobMatcher>,
    cidr: Vec<IpNet>,
    tags: Vec<String>,
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
    let message = error.message().trim().to_string();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn empty_selector_is_rejected() {
        let error = Config::parse("[[assets]]\nmatch = {}\ncriticality = \"high\"\n").unwrap_err();
        assert!(error.contains("assets[0]"), "{error}");
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
        assert_eq!(config.controls.to_graph(), ctem_graph::Controls::default());

        let config = Config::parse("[controls]\nwaf = 0.5\nmfa = 1\n").unwrap();
        assert_eq!(config.controls.waf, 0.5);
        assert_eq!(config.controls.mfa, 1.0);
        assert_eq!(config.controls.segmentation, 1.0);
    }

    #[test]
    fn invalid_controls_are_named() {
        let cases = [
            ("[controls]\nwaf = 0\n", "controls.waf"),
            ("[controls]\nsegmentation = 1.5\n", "controls.segmentation"),
            ("[controls]\nedr = -0.2\n", "controls.edr"),
            ("[controls]\nmfa = nan\n", "controls.mfa"),
            (
                "[controls]\nwaf = \"high\"\n",
                "controls.waf: expected a number in (0, 1], found a string",
            ),
            ("[controls]\nfirewall = 0.5\n", "firewall"),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
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
