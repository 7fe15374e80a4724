//! The context that scoring takes beyond a finding, its asset and the
//! intelligence: the `[prioritization]` section of ctem.toml, and the
//! facts that the attack graph shows about each finding.
//!
//! [`Prioritizer`] derives one [`ctem_risk::Context`] per finding from the
//! attack paths of the run (paths through the finding, their best
//! probability, choke points, the blast radius of its asset), the
//! `[controls]` factors, the asset's data classification and the deadline
//! table.

use std::collections::{BTreeMap, HashMap, HashSet};

use ctem_graph::{AssetId, AttackGraph, FixRef, NodeId};
use ctem_model::{Asset, AssetKey, Deadline, Finding};
use ctem_risk::{BodCriteria, Context, Controls, DataClassification, DeadlineTable, GraphFacts};
use serde::Deserialize;

use crate::config::Config;
use crate::paths::AttackPaths;

/// The asset attribute that contains the classification of an asset's data
/// (`public`, `internal`, `confidential` or `restricted`). `[[assets]]`
/// rules set it with `data_classification`.
pub const DATA_CLASSIFICATION_ATTRIBUTE: &str = "data_classification";

/// The `[prioritization]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrioritizationConfig {
    /// Replacements for cells of the CISA BOD 26-04 deadline table.
    pub deadlines: DeadlinesConfig,
    /// The risk points that `ctem actions` gives an action for each unit of
    /// attacker success it removes. Default:
    /// [`CROWN_JEWEL_VALUE`](crate::actions::CROWN_JEWEL_VALUE), 10,000.
    #[serde(deserialize_with = "crown_jewel_value")]
    pub crown_jewel_value: Option<f64>,
}

impl PrioritizationConfig {
    /// Returns the configured crown jewel value, or the default.
    pub fn crown_jewel_value(&self) -> f64 {
        self.crown_jewel_value.unwrap_or(crate::actions::CROWN_JEWEL_VALUE)
    }
}

/// The largest crown jewel value accepted: a path of probability 1 worth
/// ten thousand findings of the maximum score.
pub const MAX_CROWN_JEWEL_VALUE: f64 = 1_000_000.0;

/// Checks a crown jewel value: a number of risk points from 0 to
/// [`MAX_CROWN_JEWEL_VALUE`]. Returns it with a negative zero made
/// positive.
///
/// # Errors
///
/// A message that names the value, for a number outside the range or NaN.
pub fn check_crown_jewel_value(value: f64) -> Result<f64, String> {
    if (0.0..=MAX_CROWN_JEWEL_VALUE).contains(&value) {
        Ok(value + 0.0)
    } else {
        Err(format!(
            "invalid crown_jewel_value {value}: expected a number of risk points from 0 to {MAX_CROWN_JEWEL_VALUE}"
        ))
    }
}

fn crown_jewel_value<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let value = match toml::Value::deserialize(deserializer)? {
        // An integer above the maximum is named as written, before the
        // conversion to f64 rounds it.
        toml::Value::Integer(value) if value > MAX_CROWN_JEWEL_VALUE as i64 => {
            return Err(serde::de::Error::custom(format!(
                "invalid crown_jewel_value {value}: expected a number of risk points from 0 to {MAX_CROWN_JEWEL_VALUE}"
            )));
        }
        toml::Value::Integer(value) => value as f64,
        toml::Value::Float(value) => value,
        other => {
            return Err(serde::de::Error::custom(format!(
                "invalid crown_jewel_value: expected a number of risk points from 0 to {MAX_CROWN_JEWEL_VALUE}, found {}",
                with_article(other.type_str())
            )));
        }
    };
    check_crown_jewel_value(value)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Puts `a` or `an` before a TOML type name, such as `an array`.
pub(crate) fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// The `[prioritization.deadlines]` table: the remediation deadline of
/// each combination of the four criteria of CISA BOD 26-04, named by the
/// criteria that hold (`kev`, `public`, `automatable`, `total`, in that
/// order, joined by `_`), or `none`. Each value is `3d_forensic`, `3d`,
/// `14d`, `60d` or `next_upgrade`. A cell left out keeps ctem's default,
/// the directive's Table 1 as the SSVC project encodes it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeadlinesConfig {
    /// None of the criteria hold. Default: `next_upgrade`.
    #[serde(deserialize_with = "deadline")]
    pub none: Option<Deadline>,
    /// In KEV only. Default: `14d`.
    #[serde(deserialize_with = "deadline")]
    pub kev: Option<Deadline>,
    /// Publicly exposed only. Default: `60d`.
    #[serde(deserialize_with = "deadline")]
    pub public: Option<Deadline>,
    /// Automatable only. Default: `60d`.
    #[serde(deserialize_with = "deadline")]
    pub automatable: Option<Deadline>,
    /// Total technical impact only. Default: `next_upgrade`.
    #[serde(deserialize_with = "deadline")]
    pub total: Option<Deadline>,
    /// In KEV and publicly exposed. Default: `14d`.
    #[serde(deserialize_with = "deadline")]
    pub kev_public: Option<Deadline>,
    /// In KEV and automatable. Default: `14d`.
    #[serde(deserialize_with = "deadline")]
    pub kev_automatable: Option<Deadline>,
    /// In KEV with total technical impact. Default: `14d`.
    #[serde(deserialize_with = "deadline")]
    pub kev_total: Option<Deadline>,
    /// Publicly exposed and automatable. Default: `14d`.
    #[serde(deserialize_with = "deadline")]
    pub public_automatable: Option<Deadline>,
    /// Publicly exposed with total technical impact. Default: `14d`.
    #[serde(deserialize_with = "deadline")]
    pub public_total: Option<Deadline>,
    /// Automatable with total technical impact. Default: `60d`.
    #[serde(deserialize_with = "deadline")]
    pub automatable_total: Option<Deadline>,
    /// In KEV, publicly exposed and automatable. Default: `3d`.
    #[serde(deserialize_with = "deadline")]
    pub kev_public_automatable: Option<Deadline>,
    /// In KEV, publicly exposed, total technical impact. Default: `3d_forensic`.
    #[serde(deserialize_with = "deadline")]
    pub kev_public_total: Option<Deadline>,
    /// In KEV, automatable, total technical impact. Default: `3d_forensic`.
    #[serde(deserialize_with = "deadline")]
    pub kev_automatable_total: Option<Deadline>,
    /// Publicly exposed, automatable, total technical impact. Default: `3d`.
    #[serde(deserialize_with = "deadline")]
    pub public_automatable_total: Option<Deadline>,
    /// All four criteria hold. Default: `3d_forensic`.
    #[serde(deserialize_with = "deadline")]
    pub kev_public_automatable_total: Option<Deadline>,
}

/// Reads one deadline cell, with a message that lists the valid values
/// whatever the type of the value found.
fn deadline<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Deadline>, D::Error> {
    const EXPECTED: &str = "expected one of \"3d_forensic\", \"3d\", \"14d\", \"60d\" or \"next_upgrade\"";
    match toml::Value::deserialize(deserializer)? {
        toml::Value::String(text) => text
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid deadline {text:?}: {EXPECTED}"))),
        other => Err(serde::de::Error::custom(format!(
            "invalid deadline: {EXPECTED}, found {}",
            with_article(other.type_str())
        ))),
    }
}

impl DeadlinesConfig {
    /// Returns the configured deadline of a combination, if any.
    fn cell(&self, criteria: BodCriteria) -> Option<Deadline> {
        match criteria.key().as_str() {
            "none" => self.none,
            "kev" => self.kev,
            "public" => self.public,
            "automatable" => self.automatable,
            "total" => self.total,
            "kev_public" => self.kev_public,
            "kev_automatable" => self.kev_automatable,
            "kev_total" => self.kev_total,
            "public_automatable" => self.public_automatable,
            "public_total" => self.public_total,
            "automatable_total" => self.automatable_total,
            "kev_public_automatable" => self.kev_public_automatable,
            "kev_public_total" => self.kev_public_total,
            "kev_automatable_total" => self.kev_automatable_total,
            "public_automatable_total" => self.public_automatable_total,
            _ => self.kev_public_automatable_total,
        }
    }

    /// Returns the default table with the configured cells replaced.
    pub fn table(&self) -> DeadlineTable {
        let mut table = DeadlineTable::default();
        for criteria in BodCriteria::all() {
            if let Some(deadline) = self.cell(criteria) {
                table.set(criteria, deadline);
            }
        }
        table
    }
}

/// Derives the scoring context of each finding of a run.
pub struct Prioritizer<'a> {
    controls: Controls,
    deadlines: DeadlineTable,
    paths: Option<&'a AttackPaths>,
    /// Graph facts by finding fingerprint.
    by_fingerprint: HashMap<String, GraphFacts>,
    /// The graph's asset ids by asset key.
    graph_assets: HashMap<AssetKey, AssetId>,
    /// The nodes of each graph asset, by asset id.
    nodes_of_asset: Vec<Vec<NodeId>>,
    /// Blast radius (crown jewels, assets) of the assets that
    /// [`Prioritizer::prepare`] computed.
    blast_radius: HashMap<AssetId, (usize, usize)>,
}

impl<'a> Prioritizer<'a> {
    /// Prepares the contexts of a run: the configuration's controls and
    /// deadlines, and the facts of the attack paths where a graph exists.
    pub fn new(config: &Config, paths: Option<&'a AttackPaths>) -> Prioritizer<'a> {
        let controls = config.controls.to_controls();
        let (by_fingerprint, graph_assets, nodes_of_asset) = match paths {
            Some(paths) => {
                let graph = &paths.graph;
                let keys = graph
                    .assets
                    .iter()
                    .enumerate()
                    .map(|(id, info)| (info.key.clone(), id as AssetId))
                    .collect();
                let mut nodes = vec![Vec::new(); graph.assets.len()];
                for (id, node) in graph.nodes.iter().enumerate() {
                    nodes[node.asset as usize].push(id as NodeId);
                }
                (path_facts(paths), keys, nodes)
            }
            None => Default::default(),
        };
        Prioritizer {
            controls,
            deadlines: config.prioritization.deadlines.table(),
            paths,
            by_fingerprint,
            graph_assets,
            nodes_of_asset,
            blast_radius: HashMap::new(),
        }
    }

    /// Computes the blast radius of each asset of `findings` in the graph,
    /// once per asset. Warns once for each asset whose data classification
    /// attribute is invalid. A report or an inventory set that attribute, so
    /// the configuration's validation did not see it. Afterwards
    /// [`Prioritizer::context`] only reads, so findings can take their
    /// contexts on several threads.
    pub fn prepare<'f>(&mut self, findings: impl IntoIterator<Item = &'f Finding>, assets: &BTreeMap<AssetKey, Asset>) {
        let mut seen = HashSet::new();
        for finding in findings {
            if !seen.insert(&finding.asset) {
                continue;
            }
            if let Some(asset) = assets.get(&finding.asset)
                && let Some(text) = asset.attributes.get(DATA_CLASSIFICATION_ATTRIBUTE)
                && let Err(error) = text.parse::<DataClassification>()
            {
                tracing::warn!(asset = %asset.key, %error, "data classification ignored");
            }
            if let Some(paths) = self.paths
                && let Some(&asset) = self.graph_assets.get(&finding.asset)
            {
                let radius = reach_from(&paths.graph, &self.nodes_of_asset[asset as usize], asset);
                self.blast_radius.insert(asset, radius);
            }
        }
    }

    /// Returns the context of one finding on its asset.
    pub fn context(&self, fingerprint: &str, finding: &Finding, asset: Option<&Asset>) -> Context {
        let mut graph = self.by_fingerprint.get(fingerprint).cloned().unwrap_or_default();
        if let Some((jewels, assets)) = self.asset_blast_radius(&finding.asset) {
            graph.blast_radius_crown_jewels = jewels;
            graph.blast_radius_assets = assets;
        }
        Context {
            graph,
            controls: self.controls,
            data_classification: asset.and_then(classification),
            deadlines: self.deadlines,
        }
    }

    /// Returns the crown jewels (compromised) and the assets that an
    /// attacker who holds every capability on the asset reaches, each
    /// without the asset itself: prepared, or else computed now.
    // NOTE: one search per asset with findings costs O(assets x edges) on
    // a run whose every asset has findings; a reverse search from the
    // crown jewels would be linear if that ever shows in a profile.
    fn asset_blast_radius(&self, key: &AssetKey) -> Option<(usize, usize)> {
        let paths = self.paths?;
        let asset = *self.graph_assets.get(key)?;
        let radius = match self.blast_radius.get(&asset) {
            Some(&known) => known,
            None => reach_from(&paths.graph, &self.nodes_of_asset[asset as usize], asset),
        };
        Some(radius)
    }
}

/// Reads the data classification attribute of an asset. An invalid value
/// counts as none ([`Prioritizer::prepare`] warns of it).
fn classification(asset: &Asset) -> Option<DataClassification> {
    asset.attributes.get(DATA_CLASSIFICATION_ATTRIBUTE)?.parse().ok()
}

/// Counts the crown jewels (compromised) and the assets that a search
/// from `starts` reaches over edges that a path may use, except `own`.
fn reach_from(graph: &AttackGraph, starts: &[NodeId], own: AssetId) -> (usize, usize) {
    let mut seen = vec![false; graph.node_count()];
    let mut queue: Vec<NodeId> = starts.to_vec();
    for &node in starts {
        seen[node as usize] = true;
    }
    while let Some(node) = queue.pop() {
        for edge in graph.out_edges(node) {
            let next = graph.edge_head(edge);
            if !graph.edge_length(edge).is_finite() || seen[next as usize] {
                continue;
            }
            seen[next as usize] = true;
            queue.push(next);
        }
    }

    let mut assets = HashSet::new();
    let mut jewels = HashSet::new();
    for (id, node) in graph.nodes.iter().enumerate() {
        if !seen[id] || node.asset == own {
            continue;
        }
        assets.insert(node.asset);
        if node.capability.compromises() && graph.assets[node.asset as usize].is_crown_jewel() {
            jewels.insert(node.asset);
        }
    }
    (jewels.len(), assets.len())
}

/// Gathers, for every finding that enables a step of a kept attack path,
/// the number of such paths, the crown jewels they reach, the best path
/// probability and whether a step it enables leads into a choke point.
fn path_facts(paths: &AttackPaths) -> HashMap<String, GraphFacts> {
    let graph = &paths.graph;
    let fingerprints_of = |edge| {
        graph
            .fixes_of(edge)
            .iter()
            .filter_map(|&fix| match &graph.fixes[fix as usize] {
                FixRef::Finding { fingerprint } => Some(fingerprint.as_str()),
                FixRef::Configuration { .. } => None,
            })
    };

    let mut facts: HashMap<String, GraphFacts> = HashMap::new();
    for jewel in &paths.crown_jewels {
        let name = paths.crown_jewel_name(jewel.asset);
        let choke_points: HashSet<NodeId> = jewel.choke_points.iter().map(|choke| choke.node).collect();
        for path in &jewel.paths {
            let mut on_path: HashSet<&str> = HashSet::new();
            let mut into_choke: HashSet<&str> = HashSet::new();
            for &edge in &path.edges {
                let leads_into_choke = choke_points.contains(&graph.edge_head(edge));
                for fingerprint in fingerprints_of(edge) {
                    on_path.insert(fingerprint);
                    if leads_into_choke {
                        into_choke.insert(fingerprint);
                    }
                }
            }
            for fingerprint in on_path {
                let entry = facts.entry(fingerprint.to_string()).or_default();
                entry.paths_to_crown_jewels += 1;
                if !entry.crown_jewels.contains(&name) {
                    entry.crown_jewels.push(name.clone());
                    entry.crown_jewels.sort();
                }
                let best = entry.best_path_probability.unwrap_or(0.0);
                entry.best_path_probability = Some(best.max(path.probability));
                entry.choke_point |= into_choke.contains(fingerprint);
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::tests::{EXPLOIT_FINGERPRINT, sample_paths};
    use ctem_model::{AssetKind, FindingKind, Severity};

    #[test]
    fn path_facts_of_sample() {
        let paths = sample_paths();
        let config = Config::default();
        let prioritizer = Prioritizer::new(&config, Some(&paths));
        let finding = Finding::new(
            "nmap",
            "CVE-2021-41773",
            FindingKind::Vulnerability,
            "Apache 2.4.49 path traversal",
            Severity::Critical,
            AssetKey::new(AssetKind::Host, "203.0.113.10"),
        );
        let context = prioritizer.context(EXPLOIT_FINGERPRINT, &finding, None);
        let graph = &context.graph;
        // One path, 1.0 * 0.9 * 0.5, whose exploit step leads into the
        // choke point (code execution on www).
        assert_eq!(graph.paths_to_crown_jewels, 1);
        assert_eq!(graph.best_path_probability, Some(0.45));
        assert!(graph.choke_point);
        assert_eq!(graph.crown_jewels.len(), 1);
        // From www the attacker reads the payments database: one crown
        // jewel, one other asset.
        assert_eq!(graph.blast_radius_crown_jewels, 1);
        assert_eq!(graph.blast_radius_assets, 1);

        // A prepared blast radius is the one computed on demand.
        let mut prepared = Prioritizer::new(&config, Some(&paths));
        prepared.prepare([&finding], &BTreeMap::new());
        assert_eq!(prepared.blast_radius.len(), 1);
        assert_eq!(prepared.context(EXPLOIT_FINGERPRINT, &finding, None), context);
    }

    #[test]
    fn unknown_finding_has_no_path_facts() {
        let paths = sample_paths();
        let config = Config::default();
        let prioritizer = Prioritizer::new(&config, Some(&paths));
        let finding = Finding::new(
            "trivy",
            "CVE-2024-0001",
            FindingKind::Vulnerability,
            "elsewhere",
            Severity::High,
            AssetKey::new(AssetKind::Host, "10.9.9.9"),
        );
        let context = prioritizer.context("other", &finding, None);
        assert!(context.graph.is_empty(), "{:?}", context.graph);
    }

    #[test]
    fn invalid_classification_is_ignored() {
        let config = Config::default();
        let prioritizer = Prioritizer::new(&config, None);
        let mut asset = Asset::new(AssetKind::Host, "10.0.0.1", "app01");
        asset
            .attributes
            .insert(DATA_CLASSIFICATION_ATTRIBUTE.to_string(), "top-secret".to_string());
        let finding = Finding::new(
            "trivy",
            "CVE-2024-0001",
            FindingKind::Vulnerability,
            "x",
            Severity::High,
            asset.key.clone(),
        );
        assert_eq!(
            prioritizer.context("f", &finding, Some(&asset)).data_classification,
            None
        );

        asset
            .attributes
            .insert(DATA_CLASSIFICATION_ATTRIBUTE.to_string(), "restricted".to_string());
        assert_eq!(
            prioritizer.context("f", &finding, Some(&asset)).data_classification,
            Some(DataClassification::Restricted)
        );
    }

    #[test]
    fn deadline_cells_replace_defaults() {
        let config = Config::parse("[prioritization.deadlines]\nnone = \"60d\"\nkev_public = \"3d\"\n").unwrap();
        let table = config.prioritization.deadlines.table();
        assert_eq!(table.get(BodCriteria::default()), Deadline::SixtyDays);
        let kev_public = BodCriteria {
            kev: true,
            public: true,
            ..BodCriteria::default()
        };
        assert_eq!(table.get(kev_public), Deadline::ThreeDays);
        // Cells left out keep the default.
        let kev = BodCriteria {
            kev: true,
            ..BodCriteria::default()
        };
        assert_eq!(table.get(kev), Deadline::FourteenDays);
    }

    #[test]
    fn every_cell_has_a_field() {
        // Setting all 16 fields to one value replaces every cell.
        let text: String = BodCriteria::all()
            .map(|criteria| format!("{} = \"60d\"\n", criteria.key()))
            .collect();
        let config = Config::parse(&format!("[prioritization.deadlines]\n{text}")).unwrap();
        let table = config.prioritization.deadlines.table();
        for criteria in BodCriteria::all() {
            assert_eq!(table.get(criteria), Deadline::SixtyDays, "{}", criteria.key());
        }
    }

    #[test]
    fn invalid_deadlines_are_named() {
        let cases = [
            ("[prioritization.deadlines]\nkev_pub = \"3d\"\n", "kev_pub"),
            ("[prioritization.deadlines]\nkev = \"5d\"\n", "invalid deadline \"5d\""),
            (
                "[prioritization.deadlines]\nkev = 3\n",
                "line 2, column 7: invalid deadline",
            ),
            ("[prioritization]\ndeadline = {}\n", "deadline"),
        ];
        for (text, named) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(named), "{text}: {error}");
        }
    }

    #[test]
    fn crown_jewel_value_is_checked() {
        let default = Config::parse("").unwrap();
        assert_eq!(
            default.prioritization.crown_jewel_value(),
            crate::actions::CROWN_JEWEL_VALUE
        );
        let integer = Config::parse("[prioritization]\ncrown_jewel_value = 5000\n").unwrap();
        assert_eq!(integer.prioritization.crown_jewel_value(), 5000.0);
        let float = Config::parse("[prioritization]\ncrown_jewel_value = 0.0\n").unwrap();
        assert_eq!(float.prioritization.crown_jewel_value(), 0.0);
        let negative_zero = Config::parse("[prioritization]\ncrown_jewel_value = -0.0\n").unwrap();
        assert!(negative_zero.prioritization.crown_jewel_value().is_sign_positive());

        let cases = [
            (
                "[prioritization]\ncrown_jewel_value = -1\n",
                "line 2, column 21: invalid crown_jewel_value -1",
            ),
            (
                "[prioritization]\ncrown_jewel_value = nan\n",
                "invalid crown_jewel_value NaN",
            ),
            (
                "[prioritization]\ncrown_jewel_value = inf\n",
                "invalid crown_jewel_value inf",
            ),
            ("[prioritization]\ncrown_jewel_value = 1e12\n", "from 0 to 1000000"),
            ("[prioritization]\ncrown_jewel_value = \"high\"\n", "found a string"),
            ("[prioritization]\ncrown_jewel_value = [1]\n", "found an array"),
            (
                "[prioritization]\ncrown_jewel_value = 9223372036854775807\n",
                "invalid crown_jewel_value 9223372036854775807",
            ),
        ];
        for (text, named) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(named), "{text}: {error}");
        }
    }
}
