//! Owners of findings and remediation actions, each with the rule that
//! chose it.
//!
//! A finding's owner comes from the first source that claims it:
//!
//! 1. an `[[owners]]` rule with `paths` that matches the finding's file
//!    path (and its asset, when the rule has a `match`);
//! 2. the CODEOWNERS file of the finding's repository, for its file path;
//! 3. the owner of its asset, as `[[assets]]` and `[[owners]]` rules set it
//!    or the asset inherited it from its host or image;
//! 4. `[ownership] default_team`.
//!
//! An action belongs to the owner of its highest-scored finding, and a
//! configuration change to the owner of its asset.

use std::collections::HashMap;
use std::path::Path;

use ctem_mobilize::codeowners::{self, Codeowners};
use ctem_model::{Asset, AssetKind, Finding};
use ctem_store::ScoredFinding;
use globset::{GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::actions::Action;
use crate::config::{CompiledSelector, Config, ConfigError};
use crate::inventory::OWNER_RULE;

/// The team that fixes a finding or an action, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ownership {
    pub team: String,
    /// How to reach the team, from its `[[owners]]` rule or CODEOWNERS line.
    pub contacts: Vec<String>,
    /// The rule that chose the team, such as `owners "Payments code"`,
    /// `CODEOWNERS repos/shop/CODEOWNERS:4 (*.js)` or
    /// `ownership.default_team`.
    pub rule: String,
}

/// An `[[owners]]` rule with paths, compiled.
struct PathRule {
    label: String,
    team: String,
    contacts: Vec<String>,
    selector: Option<CompiledSelector>,
    paths: GlobSet,
}

/// The owner rules of a configuration, ready to resolve owners.
pub struct OwnerResolver {
    path_rules: Vec<PathRule>,
    /// CODEOWNERS by repository, normalized by [`repository_key`].
    codeowners: Vec<(String, Codeowners)>,
    /// The contacts of each team, from its first `[[owners]]` rule.
    contacts: HashMap<String, Vec<String>>,
    default: Option<Ownership>,
}

impl OwnerResolver {
    /// Compiles the owner rules and reads the CODEOWNERS files, whose
    /// paths are relative to `config_dir`.
    ///
    /// # Errors
    ///
    /// A CODEOWNERS file that cannot be read or parsed, named with the line.
    pub fn new(config: &Config, config_dir: &Path) -> Result<OwnerResolver, ConfigError> {
        let mut contacts: HashMap<String, Vec<String>> = HashMap::new();
        for rule in &config.owners {
            contacts
                .entry(rule.team.clone())
                .or_insert_with(|| rule.contacts.clone());
        }

        let mut path_rules = Vec::new();
        for (index, rule) in config
            .owners
            .iter()
            .enumerate()
            .filter(|(_, rule)| !rule.paths.is_empty())
        {
            let mut builder = GlobSetBuilder::new();
            for path in &rule.paths {
                builder.add(
                    globset::GlobBuilder::new(path)
                        .literal_separator(true)
                        .build()
                        .expect("validated when the configuration was loaded"),
                );
            }
            path_rules.push(PathRule {
                label: rule.label(index),
                team: rule.team.clone(),
                contacts: rule.contacts.clone(),
                selector: rule.selector.as_ref().map(|selector| selector.compile()),
                paths: builder.build().expect("validated when the configuration was loaded"),
            });
        }

        let mut codeowners = Vec::new();
        for file in &config.ownership.codeowners {
            let path = match (&file.file, &file.checkout) {
                (Some(path), _) => config_dir.join(path),
                (None, Some(checkout)) => {
                    let checkout = config_dir.join(checkout);
                    codeowners::find_in(&checkout).ok_or_else(|| ConfigError::Invalid {
                        path: checkout.display().to_string(),
                        message: format!(
                            "no CODEOWNERS file in the checkout of {}; looked for {}",
                            file.repository,
                            codeowners::LOCATIONS.join(", ")
                        ),
                    })?
                }
                (None, None) => unreachable!("validated when the configuration was loaded"),
            };
            let invalid = |message: String| ConfigError::Invalid {
                path: path.display().to_string(),
                message,
            };
            let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let text = String::from_utf8(bytes)
                .map_err(|error| invalid(format!("invalid UTF-8 at byte {}", error.utf8_error().valid_up_to())))?;
            let parsed = Codeowners::parse(&path.display().to_string(), &text).map_err(|error| match error {
                codeowners::CodeownersError::Invalid { line, message, .. } => {
                    invalid(format!("line {line}: {message}"))
                }
                other => invalid(other.to_string()),
            })?;
            codeowners.push((repository_key(&file.repository), parsed));
        }

        let default = config.ownership.default_team.as_ref().map(|team| Ownership {
            team: team.clone(),
            contacts: config.ownership.default_contacts.clone(),
            rule: "ownership.default_team".to_string(),
        });
        Ok(OwnerResolver {
            path_rules,
            codeowners,
            contacts,
            default,
        })
    }

    /// Chooses the owner of a finding on `asset` (the finding's asset, when
    /// known).
    pub fn finding_owner(&self, finding: &Finding, asset: Option<&Asset>) -> Option<Ownership> {
        if let Some(path) = finding.location.path.as_deref() {
            let path = path.trim_start_matches("./").trim_start_matches('/');
            let rule = self.path_rules.iter().find(|rule| {
                rule.paths.is_match(path)
                    && match (&rule.selector, asset) {
                        (None, _) => true,
                        (Some(selector), Some(asset)) => selector.matches(asset),
                        (Some(_), None) => false,
                    }
            });
            if let Some(rule) = rule {
                return Some(Ownership {
                    team: rule.team.clone(),
                    contacts: rule.contacts.clone(),
                    rule: rule.label.clone(),
                });
            }
            if let Some(owner) = self.codeowners_owner(finding, path) {
                return Some(owner);
            }
        }
        self.asset_owner(asset)
    }

    /// Chooses the owner of an asset: the one its rules set, else the
    /// default.
    pub fn asset_owner(&self, asset: Option<&Asset>) -> Option<Ownership> {
        if let Some(asset) = asset
            && let Some(team) = &asset.owner
        {
            let rule = asset
                .attributes
                .get(OWNER_RULE)
                .cloned()
                .unwrap_or_else(|| "the asset's owner in the inventory".to_string());
            return Some(Ownership {
                team: team.clone(),
                contacts: self.contacts.get(team).cloned().unwrap_or_default(),
                rule,
            });
        }
        self.default.clone()
    }

    fn codeowners_owner(&self, finding: &Finding, path: &str) -> Option<Ownership> {
        if finding.asset.kind() != Some(AssetKind::Repository) {
            return None;
        }
        let repository = repository_key(finding.asset.identifier());
        let (_, file) = self.codeowners.iter().find(|(key, _)| *key == repository)?;
        let rule = file.owners_of(path)?;
        Some(Ownership {
            team: rule.owners[0].clone(),
            contacts: rule.owners.clone(),
            rule: format!("CODEOWNERS {}:{} ({})", file.file, rule.line, rule.pattern),
        })
    }
}

/// Normalizes a repository name for comparison: lowercase, without a
/// trailing `/` or `.git`.
fn repository_key(repository: &str) -> String {
    let lower = repository.trim().to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('/');
    trimmed.strip_suffix(".git").unwrap_or(trimmed).to_string()
}

/// Sets the owner of every finding of `actions` and of every action.
/// `findings` and `assets` are those the actions were planned from.
pub fn assign_owners(actions: &mut [Action], findings: &[ScoredFinding], assets: &[Asset], resolver: &OwnerResolver) {
    let by_key: HashMap<&str, &Asset> = assets.iter().map(|asset| (asset.key.as_str(), asset)).collect();
    let by_fingerprint: HashMap<&str, &Finding> = findings
        .iter()
        .map(|scored| (scored.fingerprint.as_str(), &scored.finding))
        .collect();

    for action in actions {
        for closed in &mut action.findings {
            let asset = by_key.get(closed.asset.as_str()).copied();
            closed.owner = match by_fingerprint.get(closed.fingerprint.as_str()) {
                Some(finding) => resolver.finding_owner(finding, asset),
                None => resolver.asset_owner(asset),
            };
        }
        action.owner = match action.findings.first() {
            Some(top) => top.owner.clone(),
            None => {
                let asset = action.assets.first().and_then(|key| by_key.get(key.as_str()).copied());
                resolver.asset_owner(asset)
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use ctem_model::{AssetKey, FindingKind, Severity};

    use super::*;

    fn finding(asset: AssetKey, path: Option<&str>) -> Finding {
        let mut finding = Finding::new(
            "semgrep",
            "sql-injection",
            FindingKind::CodeWeakness,
            "SQL injection",
            Severity::High,
            asset,
        );
        finding.location.path = path.map(str::to_string);
        finding
    }

    fn resolver(text: &str, dir: &Path) -> OwnerResolver {
        OwnerResolver::new(&Config::parse(text).unwrap(), dir).unwrap()
    }

    #[test]
    fn sources_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("CODEOWNERS"),
            "* @acme/shop\n/web/ @acme/frontend web@acme.example\n",
        )
        .unwrap();
        let owners = resolver(
            r#"
            [[owners]]
            name = "Payments code"
            team = "payments-team"
            contacts = ["payments@acme.example"]
            paths = ["src/payments/**"]

            [ownership]
            default_team = "security"
            codeowners = [{ repository = "https://github.com/acme/shop-web.git", file = "CODEOWNERS" }]
            "#,
            dir.path(),
        );
        let repository = AssetKey::new(AssetKind::Repository, "https://github.com/acme/shop-web");
        let mut host = Asset::new(AssetKind::Host, "10.0.0.5", "app01");
        host.owner = Some("infrastructure".into());
        host.attributes.insert(OWNER_RULE.into(), "owners[3]".into());

        let payments = owners
            .finding_owner(&finding(repository.clone(), Some("src/payments/charge.py")), None)
            .unwrap();
        assert_eq!(payments.team, "payments-team");
        assert_eq!(payments.rule, "owners \"Payments code\"");
        assert_eq!(payments.contacts, ["payments@acme.example"]);

        let web = owners
            .finding_owner(&finding(repository.clone(), Some("./web/app.js")), None)
            .unwrap();
        assert_eq!(web.team, "@acme/frontend");
        assert_eq!(web.contacts, ["@acme/frontend", "web@acme.example"]);
        assert!(web.rule.ends_with("CODEOWNERS:2 (/web/)"), "{}", web.rule);

        let on_host = owners
            .finding_owner(&finding(host.key.clone(), Some("web/app.js")), Some(&host))
            .unwrap();
        assert_eq!(on_host.team, "infrastructure");
        assert_eq!(on_host.rule, "owners[3]");

        let other = AssetKey::new(AssetKind::Host, "10.0.0.6");
        let default = owners.finding_owner(&finding(other, None), None).unwrap();
        assert_eq!(default.team, "security");
        assert_eq!(default.rule, "ownership.default_team");
    }

    #[test]
    fn no_rule_means_no_owner() {
        let dir = tempfile::tempdir().unwrap();
        let owners = resolver("", dir.path());
        let asset = AssetKey::new(AssetKind::Host, "10.0.0.6");
        assert_eq!(owners.finding_owner(&finding(asset, Some("a.py")), None), None);
    }

    #[test]
    fn path_rule_with_match_checks_asset() {
        let dir = tempfile::tempdir().unwrap();
        let owners = resolver(
            r#"
            [[owners]]
            team = "billing"
            match = { repository = "*billing*" }
            paths = ["**/*.go"]
            "#,
            dir.path(),
        );
        let billing = Asset::new(AssetKind::Repository, "https://github.com/acme/billing", "billing");
        let shop = Asset::new(AssetKind::Repository, "https://github.com/acme/shop", "shop");
        let in_billing = finding(billing.key.clone(), Some("cmd/main.go"));
        let in_shop = finding(shop.key.clone(), Some("cmd/main.go"));
        assert_eq!(
            owners.finding_owner(&in_billing, Some(&billing)).unwrap().team,
            "billing"
        );
        assert_eq!(owners.finding_owner(&in_shop, Some(&shop)), None);
    }

    #[test]
    fn codeowners_found_in_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let checkout = dir.path().join("shop");
        std::fs::create_dir_all(checkout.join(".github")).unwrap();
        std::fs::write(checkout.join(".github/CODEOWNERS"), "* @acme/shop\n").unwrap();
        std::fs::write(checkout.join("CODEOWNERS"), "* @acme/ignored\n").unwrap();
        let owners = resolver(
            "[ownership]\ncodeowners = [{ repository = \"https://github.com/acme/shop\", checkout = \"shop\" }]\n",
            dir.path(),
        );
        let repository = AssetKey::new(AssetKind::Repository, "https://github.com/acme/shop");
        let owner = owners
            .finding_owner(&finding(repository, Some("app.py")), None)
            .unwrap();
        assert_eq!(owner.team, "@acme/shop");
        assert!(owner.rule.contains(".github/CODEOWNERS:1"), "{}", owner.rule);

        let config = Config::parse(
            "[ownership]\ncodeowners = [{ repository = \"https://github.com/acme/api\", checkout = \"api\" }]\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("api")).unwrap();
        let error = OwnerResolver::new(&config, dir.path()).err().unwrap().to_string();
        assert!(
            error.contains("no CODEOWNERS file in the checkout of https://github.com/acme/api"),
            "{error}"
        );
        assert!(error.contains(".gitlab/CODEOWNERS"), "{error}");
    }

    #[test]
    fn bad_codeowners_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("CODEOWNERS"), "*.rs @acme/rust\nsrc/ rust-team\n").unwrap();
        let config = Config::parse(
            "[ownership]\ncodeowners = [{ repository = \"https://github.com/acme/shop\", file = \"CODEOWNERS\" }]\n",
        )
        .unwrap();
        let error = OwnerResolver::new(&config, dir.path()).err().unwrap().to_string();
        assert!(
            error.contains("CODEOWNERS: line 2: invalid owner \"rust-team\""),
            "{error}"
        );

        let missing = OwnerResolver::new(&config, &dir.path().join("absent"))
            .err()
            .unwrap()
            .to_string();
        assert!(missing.contains("absent"), "{missing}");
    }
}
