//! Nikto XML reports: the results of a Nikto web server scan
//! (`nikto -Format xml -output report.xml`).
//!
//! # Reads
//!
//! The XML of Nikto 2.1 to 2.5 (`nxmlversion` 1.x): a `<niktoscan>` root,
//! in newer versions wrapping a second `<niktoscan>` with the scan options,
//! and some tools wrap several reports in `<niktoscans>`. Each
//! `<scandetails>` (attributes `targetip`, `targethostname`, `targetport`,
//! `targetbanner`, `sitename`, `siteip`) contains the `<item>`s (attributes
//! `id`, `osvdbid`, `osvdblink`, `method`) with `description`, `uri`,
//! `namelink`, `iplink` and, in Nikto 2.5, `references`. A report whose
//! `nxmlversion` has a major number other than 1 is rejected.
//!
//! # Field mapping
//!
//! One finding per item, as for Nikto JSON (`nikto-json`):
//!
//! | report | finding |
//! | --- | --- |
//! | `id` | `rule_id` |
//! | `description` (the `<uri>:` that Nikto 2.5 puts first removed) | `title`, `description` |
//! | (none: Nikto rates nothing) | `severity` Info |
//! | (always) | `kind` WebWeakness |
//! | `osvdbid` other than 0 | vulnerability id `OSVDB:n` |
//! | `osvdblink`, `references` | `references` |
//! | the site's origin and `uri` | `location.url` |
//! | `method` | `location.method` |
//! | the header of a generic header check (ids 999100, 999986) | `location.parameter` |
//! | a default account's password (`PW '...'`) | `secret`, masked in title and description |
//!
//! # Scope target
//!
//! The origin of each `<scandetails>` (`sitename`, else `targethostname`
//! or `targetip` with `targetport`), with the default port left out, as
//! Nikto JSON gives it. The asset is a [`ctem_model::AssetKind::WebApp`]
//! keyed by that origin, with `url`, `hostname`, `ip` and `port`
//! identifiers and the banner as its `server` attribute. A report without
//! scan details covers [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `nikto`, the item id, the site, the URL, the method and the header
//! of a generic header check.
//!
//! # Not read yet
//!
//! `<ssl>` (ciphers, issuers, alternative names), `<statistics>`, the scan
//! options and times, `namelink` and `iplink` (the URL is built from the
//! origin and `uri` instead).
//!
//! # Reference
//!
//! <https://github.com/sullo/nikto/wiki/Output-Formats> and Nikto's DTD
//! `docs/nikto.dtd`.

use std::io::BufRead;

use quick_xml::events::BytesStart;

use super::dast_xml::{self, Field, XmlHandler, element_name};
use super::nikto_shared::{self, NiktoItem, NiktoSite, NiktoSites, SiteFacts};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "nikto-xml";
/// The maximum size in bytes of one item field kept while reading.
const FIELD_BYTES: usize = 64 * 1024;

/// The Nikto XML parser.
pub struct NiktoXml;

impl Parser for NiktoXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Nikto XML",
            tool: "Nikto",
            versions: "2.1 to 2.5 (nxmlversion 1.x)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        if util::contains(head, b"<niktoscan") {
            Detection::Certain
        } else {
            Detection::No
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut handler = NiktoHandler {
            context,
            sink,
            sites: NiktoSites::default(),
            site: None,
            item: None,
            field: None,
        };
        dast_xml::walk(
            context,
            FORMAT_ID,
            "a Nikto XML report with a <niktoscan> root element",
            reader,
            &mut handler,
        )?;
        handler.sites.finish(context, handler.sink);
        Ok(())
    }
}

/// The reader's place in the document and the item being built.
struct NiktoHandler<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    sites: NiktoSites,
    /// The site of the `<scandetails>` being read, with its depth.
    site: Option<(NiktoSite, usize)>,
    /// The `<item>` being read, with its depth.
    item: Option<(NiktoItem, usize)>,
    field: Option<Field>,
}

impl XmlHandler for NiktoHandler<'_, '_> {
    fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        let name = element_name(element);
        if name != "niktoscan" && name != "niktoscans" {
            return Err(format!(
                "not a Nikto XML report: expected the root element <niktoscan>, found <{name}>"
            ));
        }
        check_version(element)
    }

    fn start(&mut self, element: &BytesStart<'_>, depth: usize) -> Result<(), String> {
        if self.field.is_some() {
            return Ok(());
        }
        let name = element_name(element);
        if let Some((_, item_depth)) = &self.item {
            if depth == item_depth + 1 && matches!(name.as_str(), "description" | "uri" | "references") {
                self.field = Some(Field::new(&name, depth));
            }
            return Ok(());
        }

        match name.as_str() {
            "niktoscan" => check_version(element)?,
            "scandetails" => {
                let attribute = |name: &str| util::xml_attribute(element, name);
                let facts = SiteFacts {
                    url: attribute("sitename"),
                    hostname: attribute("targethostname"),
                    ip: attribute("targetip"),
                    port: attribute("targetport"),
                    banner: attribute("targetbanner"),
                };
                let site = self.sites.declare(&facts, self.context, self.sink);
                self.site = Some((site, depth));
            }
            "item" => {
                let attribute = |name: &str| util::xml_attribute(element, name);
                let item = NiktoItem {
                    id: attribute("id"),
                    osvdb: attribute("osvdbid"),
                    method: attribute("method"),
                    references: attribute("osvdblink")
                        .and_then(|link| util::non_empty(Some(&link)))
                        .into_iter()
                        .collect(),
                    ..NiktoItem::default()
                };
                self.item = Some((item, depth));
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, _name: &[u8], depth: usize) {
        if let Some(field) = self.field.take_if(|field| field.depth == depth) {
            if let Some((item, _)) = &mut self.item {
                match field.name.as_str() {
                    "description" => item.message = Some(field.text),
                    "uri" => item.uri = Some(field.text),
                    "references" => item.references.push(field.text),
                    _ => {}
                }
            }
            return;
        }
        if let Some((item, _)) = self.item.take_if(|(_, item_depth)| *item_depth == depth) {
            let site = match &self.site {
                Some((site, _)) => site.clone(),
                None => self.sites.declare(&SiteFacts::default(), self.context, self.sink),
            };
            self.sink.finding(nikto_shared::finding(&site, item));
            return;
        }
        if self.site.as_ref().is_some_and(|(_, site_depth)| *site_depth == depth) {
            self.site = None;
        }
    }

    fn capturing(&self) -> bool {
        self.field.is_some()
    }

    fn text(&mut self, text: &str) {
        if let Some(field) = &mut self.field {
            field.push(text, FIELD_BYTES);
        }
    }
}

/// Rejects an `nxmlversion` with a major number other than 1.
fn check_version(element: &BytesStart<'_>) -> Result<(), String> {
    let version = util::xml_attribute(element, "nxmlversion");
    match dast_xml::major_version(version.as_deref()) {
        Some(1) | None => Ok(()),
        Some(_) => Err(format!(
            "unsupported Nikto XML version {:?}: this parser reads nxmlversion 1.x (Nikto 2.1 to 2.5)",
            version.unwrap_or_default()
        )),
    }
}
