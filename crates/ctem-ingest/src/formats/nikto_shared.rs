//! The field mapping that the Nikto XML and JSON parsers share, so that the
//! two outputs of one scan give the same findings and fingerprints.

use std::collections::BTreeSet;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, MaskedSecret, Severity};

use super::dast_shared::{Origin, mask_values};
use crate::{ParseContext, Sink, util};

/// The tool name of Nikto findings and scopes.
pub(crate) const TOOL: &str = "nikto";

/// The facts that a scan gives about one site, from `<scandetails>` or
/// the JSON host object.
#[derive(Debug, Default)]
pub(crate) struct SiteFacts {
    /// The site's URL (`sitename` in XML), where the report gives one.
    pub url: Option<String>,
    pub hostname: Option<String>,
    pub ip: Option<String>,
    pub port: Option<String>,
    pub banner: Option<String>,
}

/// A site as findings name it.
#[derive(Debug, Clone)]
pub(crate) struct NiktoSite {
    origin: Option<Origin>,
    key: AssetKey,
    target: String,
}

/// One Nikto result: an `<item>` or a JSON vulnerability.
#[derive(Debug, Default)]
pub(crate) struct NiktoItem {
    pub id: Option<String>,
    pub osvdb: Option<String>,
    pub method: Option<String>,
    /// The path Nikto requested (`uri` in XML, `url` in JSON).
    pub uri: Option<String>,
    /// The message (`description` in XML, `msg` in JSON).
    pub message: Option<String>,
    pub references: Vec<String>,
}

/// The sites of one report whose asset and scope were sent.
#[derive(Debug, Default)]
pub(crate) struct NiktoSites {
    sent: BTreeSet<String>,
}

impl NiktoSites {
    /// Sends the site's asset and scope target once, and returns the site.
    ///
    /// The site's origin comes from its URL, else from its host name (or
    /// address) and port. NOTE: Nikto's JSON names no scheme, so port 443
    /// and 8443 are taken as `https` and every other port as `http`. A TLS
    /// site on another port gets an `http` origin there.
    pub fn declare(&mut self, facts: &SiteFacts, context: &ParseContext<'_>, sink: &mut dyn Sink) -> NiktoSite {
        let port = facts.port.as_deref().and_then(|p| p.trim().parse::<u16>().ok());
        let origin = facts.url.as_deref().and_then(Origin::parse).or_else(|| {
            let host = util::non_empty(facts.hostname.as_deref()).or_else(|| util::non_empty(facts.ip.as_deref()))?;
            let scheme = if matches!(port, Some(443 | 8443)) {
                "https"
            } else {
                "http"
            };
            let mut origin = Origin::parse_with_scheme(&host, scheme)?;
            origin.port = origin.port.or(port);
            Some(origin)
        });

        let mut asset = match &origin {
            Some(origin) => origin.asset(facts.ip.as_deref()),
            None => Asset::new(AssetKind::WebApp, context.default_target, context.default_target),
        };
        if let Some(banner) = util::non_empty(facts.banner.as_deref()) {
            asset.attributes.insert("server".into(), banner);
        }
        let target = origin
            .as_ref()
            .map_or_else(|| context.default_target.to_string(), Origin::to_url);
        let key = asset.key.clone();
        if self.sent.insert(target.clone()) {
            sink.asset(asset);
            sink.target(TOOL, &target);
        }
        NiktoSite { origin, key, target }
    }

    /// Declares the default target for a report that named no site.
    pub fn finish(&self, context: &ParseContext<'_>, sink: &mut dyn Sink) {
        if self.sent.is_empty() {
            sink.target(TOOL, context.default_target);
        }
    }
}

/// Builds the finding of one Nikto result.
///
/// Nikto rates nothing, so every finding is `Info`. (DefectDojo raises
/// results with an OSVDB id to Medium; ctem keeps the id instead.)
pub(crate) fn finding(site: &NiktoSite, item: NiktoItem) -> Finding {
    let uri = util::non_empty(item.uri.as_deref());
    let message = util::non_empty(item.message.as_deref())
        .map(|message| clean_message(&message, uri.as_deref()))
        .filter(|message| !message.is_empty());
    let id = util::non_empty(item.id.as_deref());
    let secret = message.as_deref().and_then(default_password);
    let secrets: Vec<String> = secret.iter().cloned().collect();

    let masked = message.as_deref().map(|message| mask_message(message, &secrets));
    let title = masked
        .clone()
        .or_else(|| id.as_ref().map(|id| format!("Nikto check {id}")))
        .unwrap_or_else(|| "Nikto result without a message".to_string());
    let rule_id = id.unwrap_or_else(|| title.clone());

    let mut finding = Finding::new(
        TOOL,
        rule_id,
        FindingKind::WebWeakness,
        title,
        Severity::Info,
        site.key.clone(),
    );
    finding.target = Some(site.target.clone());
    finding.secret = secret.as_deref().map(MaskedSecret::new);
    finding.location.url = match (&site.origin, &uri) {
        (Some(origin), Some(uri)) => Some(origin.join(uri)),
        (Some(origin), None) => Some(origin.to_url()),
        (None, uri) => uri.clone(),
    };
    finding.location.method = util::non_empty(item.method.as_deref()).map(|m| m.to_ascii_uppercase());
    finding.location.parameter = message.as_deref().and_then(header_name);
    finding.description = masked;

    if let Some(osvdb) = util::non_empty(item.osvdb.as_deref()).filter(|id| !id.trim_start_matches('0').is_empty()) {
        util::add_vulnerability_id(&mut finding, &format!("OSVDB:{osvdb}"));
    }
    for reference in item.references {
        for link in reference
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            if !finding.references.iter().any(|known| known == link) {
                finding.references.push(link.to_string());
            }
        }
    }
    finding
}

/// Removes the `<path>:` or `: ` that Nikto 2.5 puts before some messages
/// (`/:X-Frame-Options header is deprecated`).
fn clean_message(message: &str, uri: Option<&str>) -> String {
    let mut message = message.trim();
    if let Some(rest) = uri
        .and_then(|uri| message.strip_prefix(uri))
        .and_then(|rest| rest.strip_prefix(':'))
    {
        message = rest;
    }
    message.trim_start_matches(':').trim().to_string()
}

/// Returns the header that a generic header check names, because Nikto
/// reports every uncommon or disclosed header under one id (999100,
/// 999986) and only the header separates those results at one URL:
/// `Uncommon header 'x-cache' found, ...` and `Retrieved via header: ...`.
fn header_name(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("Uncommon header '") {
        let name = rest.split('\'').next()?;
        return util::non_empty(Some(name)).map(|n| n.to_ascii_lowercase());
    }
    if let Some(rest) = message.strip_prefix("Retrieved ") {
        let (name, _) = rest.split_once(" header:")?;
        return util::non_empty(Some(name))
            .filter(|n| !n.contains(' '))
            .map(|n| n.to_ascii_lowercase());
    }
    None
}

/// Returns the password of a default account that Nikto found
/// (`Default account found for 'Restricted' at /status (ID '', PW 'cisco')`).
fn default_password(message: &str) -> Option<String> {
    let start = message.find("PW '")? + 4;
    let password = message[start..].split('\'').next()?;
    (!password.is_empty()).then(|| password.to_string())
}

/// Masks the password of a default account in a message: where Nikto
/// names it (`PW '...'`, whatever its length) and wherever else it occurs.
fn mask_message(message: &str, secrets: &[String]) -> String {
    let mut masked = message.to_string();
    for secret in secrets {
        let masked_form = MaskedSecret::new(secret).masked;
        masked = masked.replace(&format!("PW '{secret}'"), &format!("PW '{masked_form}'"));
    }
    mask_values(&masked, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cleaned() {
        assert_eq!(
            clean_message("/:X-Frame-Options header is deprecated.", Some("/")),
            "X-Frame-Options header is deprecated."
        );
        assert_eq!(
            clean_message(": Server banner changed from 'nginx' to 'ghs'.", Some("/images/a.ico")),
            "Server banner changed from 'nginx' to 'ghs'."
        );
        assert_eq!(clean_message("Plain message.", Some("/")), "Plain message.");
    }

    #[test]
    fn header_checks_name_header() {
        assert_eq!(
            header_name("Uncommon header 'X-Cache' found, with contents: HIT").as_deref(),
            Some("x-cache")
        );
        assert_eq!(header_name("Retrieved via header: 1.1 vegur").as_deref(), Some("via"));
        assert_eq!(
            header_name("Retrieved access-control-allow-origin header: *").as_deref(),
            Some("access-control-allow-origin")
        );
        assert_eq!(
            header_name("The site uses SSL and Expect-CT header is not present."),
            None
        );
    }

    #[test]
    fn default_password_found() {
        let message = "Default account found for 'Restricted' at /status (ID '', PW 'cisco'). Cisco device.";
        assert_eq!(default_password(message).as_deref(), Some("cisco"));
        assert_eq!(default_password("PW '' means none"), None);
        assert_eq!(default_password("nothing here"), None);
    }
}
