//! Asset resolution: merging what every report said about an asset, then
//! applying the configuration's rules.

use std::collections::{BTreeMap, HashMap};

use ctem_model::{Asset, AssetKey, AssetKind, Criticality, Relationship, RelationshipKind};

use crate::config::{CompiledSelector, Config};

/// The assets of one run, keyed by asset key, with their relationships.
#[derive(Debug, Default)]
pub struct Inventory {
    pub assets: BTreeMap<AssetKey, Asset>,
    pub relationships: Vec<Relationship>,
}

impl Inventory {
    /// Adds an asset, merging it with what is known under the same key.
    ///
    /// NOTE: identity is the asset key alone (a host is keyed by its IP
    /// address by every parser). Matching one host known by an IP in one
    /// report and by a name in another needs identifier-based resolution,
    /// which this does not do yet.
    pub fn add_asset(&mut self, asset: Asset) {
        match self.assets.get_mut(&asset.key) {
            Some(known) => known.merge(asset),
            None => {
                self.assets.insert(asset.key.clone(), asset);
            }
        }
    }

    /// Makes sure an asset exists for a key that a finding names, for
    /// parsers that report findings on assets they did not describe.
    pub fn ensure_asset(&mut self, key: &AssetKey) {
        if !self.assets.contains_key(key) {
            let kind = key.kind().unwrap_or(AssetKind::Other);
            let mut asset = Asset::new(kind, key.identifier(), key.identifier());
            asset.key = key.clone();
            self.assets.insert(key.clone(), asset);
        }
    }

    pub fn add_relationship(&mut self, relationship: Relationship) {
        self.relationships.push(relationship);
    }

    /// Applies the configuration to every asset, then lets services and
    /// components take the criticality, exposure and owner of the host or
    /// image they belong to where they have none of their own.
    pub fn apply_config(&mut self, config: &Config) {
        self.relationships.sort_by(|a, b| {
            (&a.from, &a.to, a.kind, a.port, &a.protocol).cmp(&(&b.from, &b.to, b.kind, b.port, &b.protocol))
        });
        self.relationships.dedup();

        let rules: Vec<_> = config
            .assets
            .iter()
            .map(|rule| (rule, rule.selector.compile()))
            .collect();
        let jewels: Vec<_> = config
            .crown_jewels
            .iter()
            .map(|jewel| (jewel, jewel.selector.compile()))
            .collect();
        // Rules with paths choose the owner of each finding on its own
        // (see the owners module), so they set no asset owner.
        let owners: Vec<(String, &str, CompiledSelector)> = config
            .owners
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.paths.is_empty())
            .filter_map(|(index, rule)| {
                Some((rule.label(index), rule.team.as_str(), rule.selector.as_ref()?.compile()))
            })
            .collect();

        for asset in self.assets.values_mut() {
            for (index, (rule, selector)) in rules.iter().enumerate() {
                if !selector.matches(asset) {
                    continue;
                }
                if let Some(criticality) = rule.criticality {
                    asset.criticality = Some(criticality);
                }
                if let Some(exposed) = rule.internet_exposed {
                    asset.internet_exposed = Some(exposed);
                }
                if let Some(owner) = &rule.owner {
                    asset.owner = Some(owner.clone());
                    let label = match &rule.name {
                        Some(name) => format!("assets \"{name}\""),
                        None => format!("assets[{index}]"),
                    };
                    asset.attributes.insert(OWNER_RULE.into(), label);
                }
                if let Some(environment) = &rule.environment {
                    asset.attributes.insert("environment".into(), environment.clone());
                }
                if let Some(classification) = &rule.data_classification {
                    asset.attributes.insert(
                        crate::prioritization::DATA_CLASSIFICATION_ATTRIBUTE.into(),
                        classification.trim().to_ascii_lowercase(),
                    );
                }
                for tag in &rule.tags {
                    if !asset.tags.contains(tag) {
                        asset.tags.push(tag.clone());
                    }
                }
            }
            for (jewel, selector) in &jewels {
                if selector.matches(asset) {
                    asset.criticality = Some(Criticality::CrownJewel);
                    asset.attributes.insert("crown_jewel".into(), jewel.name.clone());
                }
            }
            if asset.owner.is_none()
                && let Some((label, owner, _)) = owners.iter().find(|(_, _, selector)| selector.matches(asset))
            {
                asset.owner = Some(owner.to_string());
                asset.attributes.insert(OWNER_RULE.into(), label.clone());
            }
        }

        self.inherit_from_parents();
    }

    /// Copies unset criticality, exposure and owner from a parent (the
    /// `from` side of `hosts` and `contains` relationships) to its children.
    /// One level only: a chain of inheritance would need a graph walk that
    /// the attack graph will provide.
    fn inherit_from_parents(&mut self) {
        let mut inherited: HashMap<AssetKey, Inherited> = HashMap::new();
        for relationship in &self.relationships {
            if !matches!(relationship.kind, RelationshipKind::Hosts | RelationshipKind::Contains) {
                continue;
            }
            let Some(parent) = self.assets.get(&relationship.from) else {
                continue;
            };
            let entry = inherited.entry(relationship.to.clone()).or_default();
            entry.0 = entry.0.max(parent.criticality);
            entry.1 = match (entry.1, parent.internet_exposed) {
                (Some(a), Some(b)) => Some(a || b),
                (a, b) => a.or(b),
            };
            if entry.2.is_none()
                && let Some(owner) = &parent.owner
            {
                let rule = match parent.attributes.get(OWNER_RULE) {
                    Some(rule) => format!("{rule}, inherited from {}", parent.key),
                    None => format!("inherited from {}", parent.key),
                };
                entry.2 = Some((owner.clone(), rule));
            }
        }
        for (key, (criticality, exposed, owner)) in inherited {
            if let Some(child) = self.assets.get_mut(&key) {
                child.criticality = child.criticality.or(criticality);
                child.internet_exposed = child.internet_exposed.or(exposed);
                if child.owner.is_none()
                    && let Some((owner, rule)) = owner
                {
                    child.owner = Some(owner);
                    child.attributes.insert(OWNER_RULE.into(), rule);
                }
            }
        }
    }
}

/// What a child asset takes from its parents: criticality, internet
/// exposure, and owner with the rule that chose it.
type Inherited = (Option<Criticality>, Option<bool>, Option<(String, String)>);

/// The asset attribute that names the rule which set the asset's owner.
pub const OWNER_RULE: &str = "owner_rule";

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text).unwrap()
    }

    #[test]
    fn crown_jewel_and_rules_apply() {
        let mut inventory = Inventory::default();
        inventory.add_asset(Asset::new(AssetKind::Host, "10.20.0.5", "db-pay01.acme.internal"));
        inventory.add_asset(Asset::new(AssetKind::Host, "203.0.113.10", "www.acme.example"));
        inventory.apply_config(&config(
            r#"
            [[crown_jewels]]
            name = "Payments database"
            match = { name = "db-pay*" }

            [[assets]]
            match = { cidr = ["203.0.113.0/24"] }
            internet_exposed = true
            owner = "web-team"
            "#,
        ));
        let db = &inventory.assets[&AssetKey::new(AssetKind::Host, "10.20.0.5")];
        assert_eq!(db.criticality, Some(Criticality::CrownJewel));
        assert_eq!(db.attributes["crown_jewel"], "Payments database");
        let www = &inventory.assets[&AssetKey::new(AssetKind::Host, "203.0.113.10")];
        assert_eq!(www.internet_exposed, Some(true));
        assert_eq!(www.owner.as_deref(), Some("web-team"));
        assert_eq!(www.criticality, None);
    }

    #[test]
    fn later_rule_overrides_earlier() {
        let mut inventory = Inventory::default();
        inventory.add_asset(Asset::new(AssetKind::Host, "10.0.0.1", "test01"));
        inventory.apply_config(&config(
            r#"
            [[assets]]
            match = { kind = "host" }
            criticality = "high"
            [[assets]]
            match = { name = "test*" }
            criticality = "low"
            "#,
        ));
        let host = inventory.assets.values().next().unwrap();
        assert_eq!(host.criticality, Some(Criticality::Low));
    }

    #[test]
    fn services_inherit_from_host() {
        let mut inventory = Inventory::default();
        let host = Asset::new(AssetKind::Host, "203.0.113.10", "www");
        let service = Asset::new(AssetKind::Service, "203.0.113.10:443/tcp", "https");
        inventory.add_relationship(Relationship::new(
            host.key.clone(),
            RelationshipKind::Hosts,
            service.key.clone(),
        ));
        inventory.add_asset(host);
        inventory.add_asset(service);
        inventory.apply_config(&config(
            r#"
            [[crown_jewels]]
            name = "Shop"
            match = { kind = "host", name = "www" }
            [[owners]]
            owner = "web-team"
            match = { kind = "host" }
            "#,
        ));
        let service = &inventory.assets[&AssetKey::new(AssetKind::Service, "203.0.113.10:443/tcp")];
        assert_eq!(service.criticality, Some(Criticality::CrownJewel));
        assert_eq!(service.owner.as_deref(), Some("web-team"));
        assert_eq!(
            service.attributes[OWNER_RULE],
            "owners[0], inherited from host:203.0.113.10"
        );
    }

    #[test]
    fn ensure_asset_creates_placeholder_of_key_kind() {
        let mut inventory = Inventory::default();
        let key = AssetKey::new(AssetKind::Repository, "git@example.org:acme/shop.git");
        inventory.ensure_asset(&key);
        assert_eq!(inventory.assets[&key].kind, AssetKind::Repository);
        assert_eq!(inventory.assets[&key].key, key);
    }
}
