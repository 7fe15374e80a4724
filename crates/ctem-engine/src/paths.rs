//! Attack paths of a run. The attack graph is derived from the run's
//! inventory and open findings (`ctem-graph`). For each crown jewel, the
//! analyses find the most likely paths from the internet, the choke points
//! on them and the cheapest set of fixes that cuts them all.
//!
//! [`compute`] runs the graph step of `ctem assess` and `ctem paths`;
//! [`AttackPaths::view`] resolves the graph's dense ids into the names,
//! findings and configuration changes that the JSON output, the terminal
//! table and the HTML report show. docs/json-output.md, section
//! "Attack paths", documents the JSON shape.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use ctem_graph::analysis::{self, ChokePoint, Exposure, FixSet, Path};
use ctem_graph::export::{ImportError, ImportLimits, import_opengraph};
use ctem_graph::{
    AssetId, AttackGraph, Controls, EdgeId, Evidence, ExploitSignals, FixId, FixRef, GraphFinding, GraphInput, NodeId,
};
use ctem_intel::Intel;
use ctem_model::{Asset, Criticality, Finding, Relationship, RelationshipKind, SourceStatus};
use ctem_store::ScoredFinding;
use serde::Serialize;

pub use ctem_graph::analysis::ChokeKind;

pub mod success;

/// How many of the most likely paths to each crown jewel `ctem assess`
/// keeps, and `ctem paths` shows without `-k`.
pub const DEFAULT_PATH_COUNT: usize = 3;

/// The cost of one fix in a minimal fix set. Every fix counts as one
/// change, so the cost of a set is the number of changes it takes.
// NOTE: a fix of a finding and a configuration change cost the same,
// because the inventory records the effort of neither.
const FIX_COST: f64 = 1.0;

/// The attack graph of a run and what the analyses found in it.
#[derive(Debug, Clone)]
pub struct AttackPaths {
    pub graph: AttackGraph,
    pub exposure: Exposure,
    /// One entry per crown-jewel asset of the graph, in the order of
    /// [`AttackGraph::crown_jewel_goals`].
    pub crown_jewels: Vec<CrownJewelPaths>,
    /// The open findings that the graph read, by fingerprint, so that a
    /// fix can name the finding it is.
    findings: HashMap<String, FindingLabel>,
    /// The configured crown-jewel name of each crown-jewel asset, by
    /// asset id.
    jewel_names: HashMap<AssetId, String>,
    /// Configured crown jewels that no node of the graph compromises, as
    /// (name, key of the first matching asset). They have no attack path.
    pub without_attack_steps: Vec<(String, String)>,
}

/// The paths from the internet to one crown-jewel asset.
#[derive(Debug, Clone)]
pub struct CrownJewelPaths {
    pub asset: AssetId,
    /// The nodes whose capability compromises the asset.
    pub goals: Vec<NodeId>,
    /// `None` when the internet does not reach the asset.
    pub most_likely: Option<Path>,
    /// The most likely loopless paths, most likely first.
    pub paths: Vec<Path>,
    pub choke_points: Vec<ChokePoint>,
    /// `None` when the internet does not reach the asset, so there is
    /// nothing to cut.
    pub fix_set: Option<FixSet>,
}

#[derive(Debug, Clone)]
struct FindingLabel {
    title: String,
    rule_id: String,
    /// CVE, GHSA and other ids, for `ctem paths --fix`.
    vulnerability_ids: Vec<String>,
    asset: String,
}

/// A finding as the graph step reads it: its fingerprint and its content.
/// The graph is derived before scoring, so no score is needed.
#[derive(Debug, Clone, Copy)]
pub struct PathFinding<'a> {
    pub fingerprint: &'a str,
    pub finding: &'a Finding,
}

impl<'a> PathFinding<'a> {
    /// Returns the graph's view of a scored finding.
    pub fn of(scored: &'a ScoredFinding) -> PathFinding<'a> {
        PathFinding {
            fingerprint: scored.fingerprint.as_str(),
            finding: &scored.finding,
        }
    }
}

/// The inputs of [`compute`].
#[derive(Debug, Clone, Copy)]
pub struct PathsInput<'a> {
    pub assets: &'a [Asset],
    pub relationships: &'a [Relationship],
    /// The run's findings, each fingerprint once.
    pub findings: &'a [PathFinding<'a>],
    pub intel: &'a Intel,
    pub controls: &'a Controls,
    /// BloodHound OpenGraph files whose edges join the graph.
    pub opengraph: &'a [OpenGraphInput],
    /// Fingerprints of findings that give no attack step: those that a
    /// person marked false positive or not affected.
    pub dismissed: &'a HashSet<String>,
    /// How many of the most likely paths to keep per crown jewel.
    pub path_count: usize,
}

/// Derives the attack graph of a run and analyses the paths to each crown
/// jewel, keeping the `path_count` most likely paths of each.
///
/// Returns `None` without deriving anything when no asset is a crown
/// jewel, because every analysis here is about reaching one.
pub fn compute(request: PathsInput<'_>) -> Result<Option<AttackPaths>, OpenGraphError> {
    let PathsInput {
        assets,
        relationships,
        findings,
        intel,
        controls,
        opengraph,
        dismissed,
        path_count,
    } = request;
    if !assets
        .iter()
        .any(|asset| asset.criticality == Some(Criticality::CrownJewel))
    {
        tracing::debug!("no crown jewel among the assets; the attack graph step is skipped");
        return Ok(None);
    }

    // `dismissed` holds the findings that a person marked false positive
    // or not affected in the store (`ctem assess` fills it; `ctem paths`
    // reads no store, so only the reports' own statuses apply there).
    let open: Vec<&PathFinding<'_>> = findings
        .iter()
        .filter(|scored| is_open(scored.finding) && !dismissed.contains(scored.fingerprint))
        .collect();
    let graph_findings: Vec<GraphFinding<'_>> = open
        .iter()
        .map(|scored| GraphFinding {
            finding: scored.finding,
            fingerprint: scored.fingerprint,
            signals: exploit_signals(scored.finding, intel),
        })
        .collect();
    let input = GraphInput {
        assets,
        relationships,
        findings: &graph_findings,
        controls,
    };
    let mut builder = ctem_graph::rules::derive_builder(&input);
    for file in opengraph {
        let summary =
            import_opengraph(&file.text, assets, &mut builder, &ImportLimits::default()).map_err(|source| {
                OpenGraphError {
                    path: file.path.clone(),
                    source,
                }
            })?;
        tracing::info!(
            path = %file.path.display(),
            nodes = summary.nodes,
            edges = summary.edges,
            joined = summary.joined,
            "OpenGraph file imported"
        );
    }
    let graph = builder.build();

    let (exposure, crown_jewels) = analyze_graph(&graph, path_count);
    tracing::info!(
        nodes = graph.node_count(),
        edges = graph.edge_count(),
        reachable_crown_jewels = exposure.reachable_crown_jewels.len(),
        "attack graph derived"
    );

    let findings = open
        .iter()
        .map(|scored| {
            let label = FindingLabel {
                title: scored.finding.title.clone(),
                rule_id: scored.finding.rule_id.clone(),
                vulnerability_ids: scored
                    .finding
                    .vulnerability_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                asset: scored.finding.asset.to_string(),
            };
            (scored.fingerprint.to_string(), label)
        })
        .collect();
    let configured = configured_jewel_names(assets, relationships);
    let jewel_names: HashMap<AssetId, String> = graph
        .assets
        .iter()
        .enumerate()
        .filter_map(|(id, info)| Some((id as AssetId, configured.get(info.key.as_str())?.to_string())))
        .collect();
    let analyzed: HashSet<&str> = crown_jewels
        .iter()
        .filter_map(|jewel| jewel_names.get(&jewel.asset).map(String::as_str))
        .collect();
    let mut without_attack_steps: Vec<(String, String)> = Vec::new();
    for asset in assets {
        let Some(name) = asset.attributes.get("crown_jewel") else {
            continue;
        };
        if !analyzed.contains(name.as_str()) && !without_attack_steps.iter().any(|(known, _)| known == name) {
            without_attack_steps.push((name.clone(), asset.key.to_string()));
        }
    }

    Ok(Some(AttackPaths {
        graph,
        exposure,
        crown_jewels,
        findings,
        jewel_names,
        without_attack_steps,
    }))
}

/// Widens an `f32` to the `f64` of its shortest decimal: 0.9 rather than
/// the 0.8999999761581421 that a plain widening gives.
fn decimal(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

impl AttackPaths {
    /// Applies the fixes that `selectors` name and analyzes the graph
    /// again, for the exposure that would remain. A selector names a
    /// finding by fingerprint (or a prefix of at least 8 characters), by
    /// rule or vulnerability id (`CVE-2021-41773`, every finding of it), or a
    /// configuration change by its text or by its asset key.
    ///
    /// # Errors
    ///
    /// A selector that names no fix of the graph.
    pub fn what_if(&self, selectors: &[String], path_count: usize) -> Result<WhatIf, String> {
        let mut applied: Vec<FixId> = Vec::new();
        for selector in selectors {
            let matched: Vec<FixId> = (0..self.graph.fixes.len() as FixId)
                .filter(|&fix| self.fix_matches(fix, selector))
                .collect();
            if matched.is_empty() {
                return Err(format!(
                    "--fix {selector:?} names no fix of the attack graph; give a finding's fingerprint, \
                     its rule or CVE id, or a configuration change as `ctem paths` prints it"
                ));
            }
            applied.extend(matched);
        }
        applied.sort_unstable();
        applied.dedup();

        let graph = analysis::what_if(&self.graph, &applied);
        let (exposure, crown_jewels) = analyze_graph(&graph, path_count);
        let applied_views = applied.iter().map(|&fix| self.fix_view(fix)).collect();
        Ok(WhatIf {
            applied: applied_views,
            reachable_before: self.exposure.reachable_crown_jewels.len(),
            after: AttackPaths {
                graph,
                exposure,
                crown_jewels,
                findings: self.findings.clone(),
                jewel_names: self.jewel_names.clone(),
                without_attack_steps: self.without_attack_steps.clone(),
            },
        })
    }

    fn fix_matches(&self, fix: FixId, selector: &str) -> bool {
        match &self.graph.fixes[fix as usize] {
            FixRef::Finding { fingerprint } => {
                fingerprint == selector
                    || (selector.len() >= 8 && fingerprint.starts_with(selector))
                    || self.findings.get(fingerprint).is_some_and(|label| {
                        label.rule_id.eq_ignore_ascii_case(selector)
                            || label
                                .vulnerability_ids
                                .iter()
                                .any(|id| id.eq_ignore_ascii_case(selector))
                    })
            }
            // The table prints a change as "{change} on {asset}".
            FixRef::Configuration { asset, change } => {
                asset.as_str() == selector
                    || change == selector
                    || selector
                        .strip_prefix(change.as_str())
                        .and_then(|rest| rest.strip_prefix(" on "))
                        .is_some_and(|rest| rest == asset.as_str())
            }
        }
    }

    /// Computes what an attacker who holds every capability on one asset
    /// reaches from there: the blast radius of that asset. `name` is the
    /// asset's key or its name (ignoring case).
    ///
    /// # Errors
    ///
    /// A name that matches no asset of the graph, or several.
    pub fn blast_radius(&self, name: &str) -> Result<BlastRadiusView, String> {
        let matches: Vec<AssetId> = (0..self.graph.assets.len() as AssetId)
            .filter(|&id| {
                let info = &self.graph.assets[id as usize];
                info.key.as_str() == name || info.name.eq_ignore_ascii_case(name)
            })
            .collect();
        let asset = match matches.as_slice() {
            [asset] => *asset,
            [] => {
                return Err(format!(
                    "--from {name:?} matches no asset of the attack graph; give an asset key"
                ));
            }
            several => {
                let keys: Vec<&str> = several
                    .iter()
                    .map(|&id| self.graph.assets[id as usize].key.as_str())
                    .collect();
                return Err(format!(
                    "--from {name:?} matches {} assets; give one of their keys: {}",
                    keys.len(),
                    keys.join(", ")
                ));
            }
        };

        let starts: Vec<NodeId> = (0..self.graph.node_count() as NodeId)
            .filter(|&node| self.graph.nodes[node as usize].asset == asset)
            .collect();
        let mut nodes: Vec<NodeId> = Vec::new();
        for &start in &starts {
            nodes.extend(analysis::blast_radius(&self.graph, start).nodes);
        }
        nodes.sort_unstable();
        nodes.dedup();
        let mut assets: Vec<AssetId> = nodes
            .iter()
            .map(|&node| self.graph.nodes[node as usize].asset)
            .collect();
        assets.sort_unstable();
        assets.dedup();
        let mut jewels: Vec<AssetId> = nodes
            .iter()
            .map(|&node| self.graph.nodes[node as usize])
            .filter(|node| node.capability.compromises() && self.graph.assets[node.asset as usize].is_crown_jewel())
            .map(|node| node.asset)
            .collect();
        jewels.sort_unstable();
        jewels.dedup();

        let info = &self.graph.assets[asset as usize];
        Ok(BlastRadiusView {
            asset: info.key.to_string(),
            name: info.name.clone(),
            capabilities: starts
                .iter()
                .map(|&node| self.graph.nodes[node as usize].capability.as_str())
                .collect(),
            nodes: nodes.len(),
            assets: assets
                .iter()
                .filter(|&&id| id != asset)
                .map(|&id| self.graph.assets[id as usize].key.to_string())
                .collect(),
            crown_jewels: jewels
                .iter()
                .filter(|&&id| id != asset)
                .map(|&id| {
                    let info = &self.graph.assets[id as usize];
                    CrownJewelRef {
                        asset: info.key.to_string(),
                        name: info.name.clone(),
                        crown_jewel: self.jewel_names.get(&id).cloned(),
                    }
                })
                .collect(),
        })
    }

    /// The configured crown-jewel name of a crown-jewel asset, else its
    /// asset name.
    pub(crate) fn crown_jewel_name(&self, asset: AssetId) -> String {
        match self.jewel_names.get(&asset) {
            Some(name) => name.clone(),
            None => self.graph.assets[asset as usize].name.clone(),
        }
    }

    /// Writes the whole attack graph as BloodHound OpenGraph JSON.
    pub fn opengraph_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&ctem_graph::export::to_opengraph(&self.graph))
    }
}

/// The assets an attacker reaches from one asset (`ctem paths --from`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlastRadiusView {
    /// The key and name of the asset the attacker starts from.
    pub asset: String,
    pub name: String,
    /// The capabilities on it that the attacker is assumed to hold: every
    /// one the graph has for the asset.
    pub capabilities: Vec<&'static str>,
    /// The graph nodes reached, the start included.
    pub nodes: usize,
    /// The keys of the other assets reached, in the graph's order.
    pub assets: Vec<String>,
    /// The crown jewels that a reached capability compromises.
    pub crown_jewels: Vec<CrownJewelRef>,
}

/// A crown jewel, named for output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrownJewelRef {
    pub asset: String,
    pub name: String,
    /// The name of the configured crown jewel that selects the asset.
    pub crown_jewel: Option<String>,
}

/// The attack paths after a set of fixes (`ctem paths --fix`).
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The fixes applied, as `ctem paths` names them.
    pub applied: Vec<FixView>,
    /// Crown jewels that the internet reached before the fixes.
    pub reachable_before: usize,
    pub after: AttackPaths,
}

/// A BloodHound OpenGraph file to import, read by the caller.
#[derive(Debug, Clone)]
pub struct OpenGraphInput {
    pub path: PathBuf,
    pub text: String,
}

/// An OpenGraph file that could not be imported; the run stops before
/// anything is written.
#[derive(Debug, thiserror::Error)]
#[error("cannot import the OpenGraph file {}: {source}", path.display())]
pub struct OpenGraphError {
    pub path: PathBuf,
    pub source: ImportError,
}

/// Maps asset keys to the configured crown-jewel name that the engine
/// recorded on the asset. A service or component without one takes the
/// name of its host or image (`hosts` and `contains`, one level), because
/// that is where it got its crown-jewel criticality from.
fn configured_jewel_names<'a>(assets: &'a [Asset], relationships: &'a [Relationship]) -> HashMap<&'a str, &'a str> {
    let mut names: HashMap<&str, &str> = assets
        .iter()
        .filter_map(|asset| Some((asset.key.as_str(), asset.attributes.get("crown_jewel")?.as_str())))
        .collect();
    let inherited: Vec<(&str, &str)> = relationships
        .iter()
        .filter(|relationship| matches!(relationship.kind, RelationshipKind::Hosts | RelationshipKind::Contains))
        .filter(|relationship| !names.contains_key(relationship.to.as_str()))
        .filter_map(|relationship| Some((relationship.to.as_str(), *names.get(relationship.from.as_str())?)))
        .collect();
    for (child, name) in inherited {
        names.entry(child).or_insert(name);
    }
    names
}

/// Runs the analyses of every crown jewel of a graph, the crown jewels
/// spread over the available cores: each analysis is a few passes over
/// the whole graph, independent of the others.
fn analyze_graph(graph: &AttackGraph, path_count: usize) -> (Exposure, Vec<CrownJewelPaths>) {
    let exposure = analysis::exposure(graph);
    let goals = graph.crown_jewel_goals();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, goals.len().max(1));
    let chunk = goals.len().div_ceil(threads).max(1);
    let crown_jewels = std::thread::scope(|scope| {
        let workers: Vec<_> = goals
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(asset, goals)| analyze_crown_jewel(graph, *asset, goals.clone(), path_count))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    (exposure, crown_jewels)
}

fn analyze_crown_jewel(graph: &AttackGraph, asset: AssetId, goals: Vec<NodeId>, path_count: usize) -> CrownJewelPaths {
    let from = AttackGraph::INTERNET;
    let most_likely = analysis::most_likely_path(graph, from, &goals);
    if most_likely.is_none() {
        return CrownJewelPaths {
            asset,
            goals,
            most_likely,
            paths: Vec::new(),
            choke_points: Vec::new(),
            fix_set: None,
        };
    }

    let paths = analysis::k_best_paths(graph, from, &goals, path_count);
    let choke_points = analysis::choke_points(graph, from, &goals, path_count);
    let fix_set = analysis::minimal_fix_set(graph, from, &goals, &|_| FIX_COST);
    CrownJewelPaths {
        asset,
        goals,
        most_likely,
        paths,
        choke_points,
        fix_set: Some(fix_set),
    }
}

/// Tells whether a finding can still be exploited, going by the status in
/// its report: a finding that the tool or a VEX statement marks not affected,
/// fixed, suppressed or a false positive gives no attack step.
pub(crate) fn is_open(finding: &Finding) -> bool {
    !matches!(
        finding.source_status,
        Some(SourceStatus::NotAffected | SourceStatus::Fixed | SourceStatus::Suppressed | SourceStatus::FalsePositive)
    )
}

/// Reads the exploitation signals of a finding from threat intelligence: whether
/// one of its CVEs is in KEV, and the highest EPSS probability among
/// them, with the CVEs that scoring reads ([`ctem_risk::finding_cves`]).
pub fn exploit_signals(finding: &Finding, intel: &Intel) -> ExploitSignals {
    let cves = ctem_risk::finding_cves(finding, intel);
    ExploitSignals {
        kev: cves.iter().any(|cve| intel.kev(cve).is_some()),
        epss: cves
            .iter()
            .filter_map(|cve| intel.epss(cve).map(|record| record.score.epss))
            .max_by(f64::total_cmp),
    }
}

impl AttackPaths {
    /// Finds the indexes into [`AttackPaths::crown_jewels`] that `name` selects:
    /// the crown jewel whose asset key or asset name is `name`, or every
    /// asset of the configured crown jewel of that name. The error lists
    /// the crown jewels to choose from.
    pub fn select(&self, name: &str) -> Result<Vec<usize>, String> {
        let selected: Vec<usize> = self
            .crown_jewels
            .iter()
            .enumerate()
            .filter(|(_, jewel)| {
                let info = &self.graph.assets[jewel.asset as usize];
                info.key.as_str() == name
                    || info.name == name
                    || self
                        .jewel_names
                        .get(&jewel.asset)
                        .is_some_and(|configured| configured == name)
            })
            .map(|(index, _)| index)
            .collect();
        if !selected.is_empty() {
            return Ok(selected);
        }

        let mut known: Vec<String> = self
            .crown_jewels
            .iter()
            .map(|jewel| {
                let info = &self.graph.assets[jewel.asset as usize];
                match self.jewel_names.get(&jewel.asset) {
                    Some(configured) => format!("{configured:?} ({})", info.key),
                    None => format!("{:?} ({})", info.name, info.key),
                }
            })
            .collect();
        known.sort();
        known.dedup();
        if let Some((configured, key)) = self
            .without_attack_steps
            .iter()
            .find(|(configured, key)| configured == name || key == name)
        {
            return Err(format!(
                "crown jewel {configured:?} ({key}) has no attack path: no step of the attack graph compromises it. \
                 The inputs give an attacker at most network access to it, and no finding, misconfiguration or \
                 credential on it that gives code execution, credentials or its data"
            ));
        }
        if known.is_empty() {
            return Err(format!(
                "unknown crown jewel {name:?}: the attack graph has no crown jewel"
            ));
        }
        Err(format!(
            "unknown crown jewel {name:?}; expected a crown jewel's name or asset key: {}",
            known.join(", ")
        ))
    }

    /// Resolves the analyses of the selected crown jewels (indexes into
    /// [`AttackPaths::crown_jewels`], as [`AttackPaths::select`] returns
    /// them) into names and findings. `None` selects them all.
    pub fn view(&self, selected: Option<&[usize]>) -> PathsView {
        let jewels: Vec<&CrownJewelPaths> = match selected {
            Some(indexes) => indexes.iter().map(|&index| &self.crown_jewels[index]).collect(),
            None => self.crown_jewels.iter().collect(),
        };
        PathsView {
            graph: GraphSize {
                nodes: self.graph.node_count(),
                edges: self.graph.edge_count(),
            },
            exposure: ExposureView {
                crown_jewels: self.exposure.crown_jewels,
                reachable_crown_jewels: self
                    .exposure
                    .reachable_crown_jewels
                    .iter()
                    .map(|&asset| self.graph.assets[asset as usize].key.to_string())
                    .collect(),
                assets: self.exposure.assets,
                assets_with_path: self.exposure.assets_with_path,
            },
            crown_jewels: jewels.into_iter().map(|jewel| self.jewel_view(jewel)).collect(),
            without_attack_steps: match selected {
                Some(_) => Vec::new(),
                None => self.without_attack_steps.iter().map(|(name, _)| name.clone()).collect(),
            },
        }
    }

    fn jewel_view(&self, jewel: &CrownJewelPaths) -> CrownJewelView {
        let info = &self.graph.assets[jewel.asset as usize];
        CrownJewelView {
            asset: info.key.to_string(),
            name: info.name.clone(),
            crown_jewel: self.jewel_names.get(&jewel.asset).cloned(),
            reachable: jewel.most_likely.is_some(),
            probability: jewel.most_likely.as_ref().map(|path| self.path_probability(path)),
            most_likely_path: jewel.most_likely.as_ref().map(|path| self.path_view(path)),
            paths: jewel.paths.iter().map(|path| self.path_view(path)).collect(),
            choke_points: jewel
                .choke_points
                .iter()
                .map(|point| ChokePointView {
                    node: self.node_view(point.node),
                    kind: point.kind,
                })
                .collect(),
            fix_set: jewel.fix_set.as_ref().map(|set| FixSetView {
                cost: (!set.uncuttable).then_some(set.cost),
                exact: set.exact,
                method: set.method,
                fixes: set.fixes.iter().map(|&fix| self.fix_view(fix)).collect(),
                uncut_path: set
                    .uncuttable
                    .then(|| self.path_view(&Path::from_edges(&self.graph, set.uncut_path.clone()))),
            }),
        }
    }

    /// The product of the path's step probabilities as the output shows
    /// them, to 12 decimals: 0.54 for steps of 0.9 and 0.6, where the
    /// graph's `f32` probabilities give 0.5400000071525568.
    fn path_probability(&self, path: &Path) -> f64 {
        let product: f64 = path
            .edges
            .iter()
            .map(|&edge| decimal(self.graph.edge(edge).probability))
            .product();
        (product * 1e12).round() / 1e12
    }

    fn path_view(&self, path: &Path) -> PathView {
        PathView {
            probability: self.path_probability(path),
            steps: path.edges.iter().map(|&edge| self.step_view(edge)).collect(),
        }
    }

    fn step_view(&self, id: EdgeId) -> StepView {
        let edge = self.graph.edge(id);
        StepView {
            from: self.node_view(edge.from),
            to: self.node_view(edge.to),
            kind: edge.kind.as_str(),
            technique: edge.technique,
            probability: decimal(edge.probability),
            evidence: edge.evidence,
            enabled_by: self.graph.fixes_of(id).iter().map(|&fix| self.fix_view(fix)).collect(),
        }
    }

    fn node_view(&self, node: NodeId) -> NodeView {
        let info = self.graph.asset_of(node);
        NodeView {
            asset: info.key.to_string(),
            name: info.name.clone(),
            capability: self.graph.nodes[node as usize].capability.as_str(),
        }
    }

    fn fix_view(&self, fix: FixId) -> FixView {
        match &self.graph.fixes[fix as usize] {
            FixRef::Finding { fingerprint } => {
                let label = self.findings.get(fingerprint);
                FixView::Finding {
                    fingerprint: fingerprint.clone(),
                    title: label.map(|label| label.title.clone()),
                    rule_id: label.map(|label| label.rule_id.clone()),
                    asset: label.map(|label| label.asset.clone()),
                }
            }
            FixRef::Configuration { asset, change } => FixView::Configuration {
                asset: asset.to_string(),
                change: change.clone(),
            },
        }
    }
}

/// The attack paths as `ctem paths --format json` prints them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PathsView {
    pub graph: GraphSize,
    pub exposure: ExposureView,
    pub crown_jewels: Vec<CrownJewelView>,
    /// Names of configured crown jewels that no step of the graph
    /// compromises. Empty when one crown jewel was selected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub without_attack_steps: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GraphSize {
    pub nodes: usize,
    pub edges: usize,
}

/// [`Exposure`] with asset keys in place of asset ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExposureView {
    pub crown_jewels: usize,
    pub reachable_crown_jewels: Vec<String>,
    pub assets: usize,
    pub assets_with_path: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrownJewelView {
    /// The asset key.
    pub asset: String,
    /// The asset name.
    pub name: String,
    /// The name of the configured crown jewel that selects the asset.
    pub crown_jewel: Option<String>,
    /// Whether a path from the internet compromises the asset.
    pub reachable: bool,
    /// The probability of the most likely path.
    pub probability: Option<f64>,
    pub most_likely_path: Option<PathView>,
    pub paths: Vec<PathView>,
    pub choke_points: Vec<ChokePointView>,
    pub fix_set: Option<FixSetView>,
}

impl CrownJewelView {
    /// The configured crown-jewel name, else the asset name.
    pub fn display_name(&self) -> &str {
        self.crown_jewel.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathView {
    /// The product of the step probabilities.
    pub probability: f64,
    pub steps: Vec<StepView>,
}

/// One edge of a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepView {
    pub from: NodeView,
    pub to: NodeView,
    /// The edge kind, such as `exploit` or `network_reach`.
    pub kind: &'static str,
    /// The ATT&CK technique id, such as `T1190`.
    pub technique: Option<&'static str>,
    pub probability: f64,
    pub evidence: Evidence,
    /// The findings and configuration that make the step possible: fixing
    /// any of them removes it.
    pub enabled_by: Vec<FixView>,
}

/// A capability on an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeView {
    pub asset: String,
    pub name: String,
    pub capability: &'static str,
}

impl NodeView {
    /// `name (asset kind, capability)`, or the asset key in place of an
    /// empty name. The kind distinguishes the assets that share a name, such
    /// as a scanned host and the cloud instance it is.
    pub fn label(&self) -> String {
        let name = if self.name.is_empty() { &self.asset } else { &self.name };
        let capability = self.capability.replace('_', " ");
        match self.asset.split_once(':') {
            Some((kind, _)) if !self.asset.starts_with(ctem_graph::INTERNET) => {
                format!("{name} ({}, {capability})", kind.replace('_', " "))
            }
            _ => format!("{name} ({capability})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChokePointView {
    pub node: NodeView,
    #[serde(flatten)]
    pub kind: ChokeKind,
}

/// A fix: a finding to fix, or a configuration change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FixView {
    Finding {
        fingerprint: String,
        /// The title, rule id and asset of the finding; absent when the
        /// fix names a finding that is not among the run's open findings.
        title: Option<String>,
        rule_id: Option<String>,
        asset: Option<String>,
    },
    Configuration {
        asset: String,
        change: String,
    },
}

impl FixView {
    /// Describes the fix in one line of text.
    pub fn describe(&self) -> String {
        match self {
            FixView::Finding {
                fingerprint,
                title,
                rule_id,
                asset,
            } => match (title, rule_id, asset) {
                (Some(title), Some(rule_id), Some(asset)) => format!("fix {title} ({rule_id}) on {asset}"),
                _ => format!("fix finding {fingerprint}"),
            },
            FixView::Configuration { asset, change } => format!("{change} on {asset}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixSetView {
    /// The number of changes the set takes; `None` when no set of fixes
    /// cuts every path.
    pub cost: Option<f64>,
    /// Whether the set is a proven minimum.
    pub exact: bool,
    /// `min_cut` or `greedy`.
    pub method: &'static str,
    pub fixes: Vec<FixView>,
    /// A path that no known fix removes, when there is one: every step of
    /// it is allowed by design or has no fix in the graph.
    pub uncut_path: Option<PathView>,
}

/// Writes the most likely paths of the selected crown jewels as a
/// Graphviz DOT digraph: one node per capability on a path, one edge per
/// step, labelled with its kind, technique and probability.
// NOTE: a local writer that draws only the paths; a graph-wide DOT export
// in ctem-graph would draw every node.
pub fn to_dot(view: &PathsView) -> String {
    let mut nodes: Vec<&NodeView> = Vec::new();
    let mut edges: Vec<(usize, usize, String)> = Vec::new();
    let mut jewels: Vec<&NodeView> = Vec::new();
    for jewel in &view.crown_jewels {
        for path in &jewel.paths {
            for step in &path.steps {
                let from = position_or_push(&mut nodes, &step.from);
                let to = position_or_push(&mut nodes, &step.to);
                let label = match step.technique {
                    Some(technique) => format!("{} {technique} p={:.2}", step.kind, step.probability),
                    None => format!("{} p={:.2}", step.kind, step.probability),
                };
                if !edges
                    .iter()
                    .any(|(a, b, known)| *a == from && *b == to && *known == label)
                {
                    edges.push((from, to, label));
                }
            }
            if let Some(last) = path.steps.last() {
                jewels.push(&last.to);
            }
        }
    }

    let mut dot = String::from("digraph attack_paths {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n");
    for (index, node) in nodes.iter().enumerate() {
        let style = if jewels.contains(node) {
            ", style=filled, fillcolor=\"#f4c7c3\""
        } else if node.capability == "internet" {
            ", shape=ellipse"
        } else {
            ""
        };
        dot.push_str(&format!(
            "  n{index} [label={}{style}];\n",
            dot_string(&format!("{}\n{}", node.name, node.capability))
        ));
    }
    for (from, to, label) in &edges {
        dot.push_str(&format!("  n{from} -> n{to} [label={}];\n", dot_string(label)));
    }
    dot.push_str("}\n");
    dot
}

fn position_or_push<'a>(nodes: &mut Vec<&'a NodeView>, node: &'a NodeView) -> usize {
    match nodes.iter().position(|known| *known == node) {
        Some(index) => index,
        None => {
            nodes.push(node);
            nodes.len() - 1
        }
    }
}

/// A DOT quoted string: quotes and backslashes escaped, line breaks as
/// `\n`, other control characters dropped.
fn dot_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c if c.is_control() => {}
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
pub(crate) mod tests;
