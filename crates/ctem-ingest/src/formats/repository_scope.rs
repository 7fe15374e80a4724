//! The repository assets, their components and the scope targets of
//! source code scanners.
//!
//! SAST and secret scanners scan a repository or a source tree. The report
//! names it rarely (a Git URL in TruffleHog v3, a repository in Semgrep's
//! platform exports), so most findings belong to the parse's default
//! target. Either way the tree is a [`AssetKind::Repository`] asset, sent
//! once per report, and its target is declared once.

use std::collections::BTreeSet;

use ctem_model::{Asset, AssetKey, AssetKind, Component, Relationship, RelationshipKind};

use crate::Sink;

/// The repositories and components one report has sent so far.
#[derive(Debug, Default)]
pub(crate) struct RepositoryScopes {
    declared: BTreeSet<AssetKey>,
    components: BTreeSet<AssetKey>,
    /// (repository, component) pairs whose relationship was sent.
    contained: BTreeSet<(AssetKey, AssetKey)>,
}

impl RepositoryScopes {
    /// Returns the key of the repository asset named `target`, sending the
    /// asset and declaring the scope the first time the report names it.
    pub(crate) fn declare(&mut self, sink: &mut dyn Sink, tool: &str, target: &str) -> AssetKey {
        self.declare_asset(sink, tool, AssetKind::Repository, target)
    }

    /// Returns the key of the asset of `kind` named `target` (a repository,
    /// or the container image that a secret scanner scanned), sending the
    /// asset and declaring the scope the first time the report names it.
    pub(crate) fn declare_asset(&mut self, sink: &mut dyn Sink, tool: &str, kind: AssetKind, target: &str) -> AssetKey {
        let key = AssetKey::new(kind, target);
        if self.declared.insert(key.clone()) {
            let mut asset = Asset::new(kind, target, target.to_string());
            if kind == AssetKind::Repository && target.contains("://") {
                asset.add_identifier("repo_url", target.to_string());
            }
            sink.asset(asset);
            sink.target(tool, target);
        }
        key
    }

    /// Sends the asset of a dependency that a repository declares (a
    /// Supply Chain finding's package), keyed `name@version`, once, and
    /// the relationship from the repository that Contains it.
    pub(crate) fn component(&mut self, sink: &mut dyn Sink, repository: &AssetKey, component: &Component) {
        let identifier = match &component.version {
            Some(version) => format!("{}@{version}", component.name),
            None => component.name.clone(),
        };
        let key = AssetKey::new(AssetKind::Component, &identifier);
        if self.components.insert(key.clone()) {
            let mut asset = Asset::new(AssetKind::Component, &identifier, component.name.clone());
            if let Some(ecosystem) = &component.ecosystem {
                asset.attributes.insert("ecosystem".to_string(), ecosystem.clone());
            }
            if let Some(version) = &component.version {
                asset.attributes.insert("version".to_string(), version.clone());
            }
            sink.asset(asset);
        }
        if self.contained.insert((repository.clone(), key.clone())) {
            sink.relationship(Relationship::new(repository.clone(), RelationshipKind::Contains, key));
        }
    }

    /// Declares `default_target` when the report declared no scope, because
    /// a clean scan still covers the tree it ran on.
    pub(crate) fn finish(&self, sink: &mut dyn Sink, tool: &str, default_target: &str) {
        if self.declared.is_empty() {
            sink.target(tool, default_target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CollectingSink;

    #[test]
    fn repository_is_sent_once() {
        let mut sink = CollectingSink::default();
        let mut scopes = RepositoryScopes::default();
        let first = scopes.declare(&mut sink, "semgrep", "https://git.example/shop");
        let second = scopes.declare(&mut sink, "semgrep", "https://git.example/shop");
        scopes.finish(&mut sink, "semgrep", "default");
        assert_eq!(first, second);

        let report = sink.into_report();
        assert_eq!(report.assets.len(), 1);
        assert_eq!(
            report.assets[0].identifier_values("repo_url").collect::<Vec<_>>(),
            ["https://git.example/shop"]
        );
        assert_eq!(report.targets.len(), 1);
    }

    #[test]
    fn empty_report_declares_default() {
        let mut sink = CollectingSink::default();
        RepositoryScopes::default().finish(&mut sink, "bandit", "bandit-json:empty.json");
        let report = sink.into_report();
        assert!(report.assets.is_empty());
        assert!(
            report
                .targets
                .contains(&("bandit".to_string(), "bandit-json:empty.json".to_string()))
        );
    }
}
