//! A TAXII 2.1 client that reads STIX objects from a collection.
//!
//! Specification: TAXII Version 2.1, OASIS Standard, 10 June 2021
//! (<https://docs.oasis-open.org/cti/taxii/v2.1/os/taxii-v2.1-os.html>).
//! The client speaks the read side of the protocol:
//!
//! - discovery: `GET {server}/taxii2/` lists the API roots;
//! - API root: `GET {api-root}/` states the TAXII versions it serves;
//! - collections: `GET {api-root}/collections/`;
//! - objects: `GET {api-root}/collections/{id}/objects/` with `added_after`
//!   and `limit`, paged by the envelope's `more` and `next`. Every request
//!   sends `Accept: application/taxii+json;version=2.1`.
//!
//! Paging: while a page has `more: true`, the client requests the next one
//! with the page's `next` value. A server that pages by date instead (no
//! `next`) is followed by sending the page's `X-TAXII-Date-Added-Last` as the
//! new `added_after`. [`TaxiiObjects::added_last`] is the latest such date,
//! from which a later run resumes.
//!
//! Limits: a timeout per request and for connecting, and a maximum number
//! of pages and of bytes in all. When either maximum is reached, the client
//! stops and returns what it has with [`TaxiiObjects::complete`] false. A
//! response larger than the maximum size of one page fails the call. JSON
//! nesting is bounded too.
//!
//! Security: credentials (HTTP basic or a bearer token) go only to the
//! origin (scheme, host and port) of the configured URL. API roots that
//! discovery names on another origin are rejected, and the HTTP client drops
//! the `Authorization` header on redirects to another host. Proxies from the
//! environment are not used. Credentials never appear in `Debug` output or logs.
//!
//! HTTP runs on reqwest's blocking client with rustls and its default
//! aws-lc-rs crypto provider, the same client the feed downloader uses.
//!
//! Not read: the manifest, versions and status endpoints, `match[...]`
//! filters, and writing to collections.

use std::fmt;
use std::io::Read;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Url;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{IntelError, shorten};
use crate::json::{check_depth, json_error};
use crate::stix::{STIX_MAX_DEPTH, StixBundle};

/// The media type of TAXII 2.1 requests and responses.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// The response header with the `date_added` of the last object of a page.
pub const TAXII_DATE_ADDED_LAST: &str = "X-TAXII-Date-Added-Last";

/// Credentials for a TAXII server.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TaxiiAuth {
    /// No credentials, for public servers.
    #[default]
    None,
    /// HTTP basic authentication.
    Basic { username: String, password: String },
    /// An `Authorization: Bearer` token.
    Bearer { token: String },
}

impl fmt::Debug for TaxiiAuth {
    /// Formats the kind of credentials without the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxiiAuth::None => f.write_str("None"),
            TaxiiAuth::Basic { username, .. } => write!(f, "Basic {{ username: {username:?}, password: <redacted> }}"),
            TaxiiAuth::Bearer { .. } => f.write_str("Bearer { token: <redacted> }"),
        }
    }
}

/// The configuration of a TAXII 2.1 source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaxiiConfig {
    /// The discovery URL, such as `https://taxii.example.org/taxii2/`. A URL
    /// with an empty path gets `/taxii2/`, the path the standard names.
    pub url: String,
    /// The credentials sent with every request.
    pub auth: TaxiiAuth,
    /// The limit for one request, connection and body included, in seconds.
    pub timeout_seconds: u64,
    /// The limit for opening a connection, in seconds.
    pub connect_timeout_seconds: u64,
    /// The maximum number of pages that one [`TaxiiClient::objects`] call reads.
    pub max_pages: u32,
    /// The largest response body accepted, in bytes.
    pub max_page_bytes: u64,
    /// The maximum number of bytes that one [`TaxiiClient::objects`] call reads over all pages.
    pub max_total_bytes: u64,
    /// The `limit` query parameter: objects per page. `None` leaves the page
    /// size to the server.
    pub page_size: Option<u32>,
}

impl Default for TaxiiConfig {
    fn default() -> TaxiiConfig {
        TaxiiConfig {
            url: String::new(),
            auth: TaxiiAuth::None,
            timeout_seconds: 60,
            connect_timeout_seconds: 10,
            max_pages: 1_000,
            max_page_bytes: 64 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            page_size: None,
        }
    }
}

/// A TAXII request that failed or a response that breaks the standard.
#[derive(Debug, thiserror::Error)]
pub enum TaxiiError {
    /// A configuration value that cannot work.
    #[error("TAXII configuration: {field}: {reason}")]
    Config { field: &'static str, reason: String },

    /// The request could not be sent or the response not read.
    #[error("TAXII request to {url} failed: {reason}")]
    Request { url: String, reason: String },

    /// The server rejected the credentials (401 or 403).
    #[error(
        "TAXII server rejected the request to {url} with status {status}; check the username and password or the token in the configuration"
    )]
    Unauthorized { url: String, status: u16 },

    /// The server does not serve the TAXII 2.1 media type (406).
    #[error(
        "TAXII server at {url} does not accept {TAXII_MEDIA_TYPE} (status 406); it may speak another TAXII version"
    )]
    NotAcceptable { url: String },

    /// Any other status than 200.
    #[error("TAXII server returned status {status} for {url}: {message}")]
    Status { url: String, status: u16, message: String },

    /// A response body over [`TaxiiConfig::max_page_bytes`].
    #[error(
        "TAXII response from {url} is larger than the limit of {limit} bytes; raise max_page_bytes or set a smaller page_size"
    )]
    TooLarge { url: String, limit: u64 },

    /// A URL from the server that points to another origin than the configured one.
    #[error(
        "TAXII server names {url}, which is not on the configured origin {origin}; credentials are not sent there, configure that URL directly if it is trusted"
    )]
    OtherOrigin { url: String, origin: String },

    /// A response that is valid JSON but breaks the TAXII standard.
    #[error("TAXII response from {url} is invalid: {reason}")]
    Protocol { url: String, reason: String },

    /// A response that is not valid JSON, or objects that are not valid STIX.
    #[error(transparent)]
    Invalid(#[from] IntelError),
}

/// The discovery resource: the API roots of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxiiDiscovery {
    pub title: String,
    /// The default API root, where the server names one.
    pub default: Option<Url>,
    pub api_roots: Vec<Url>,
}

/// An API root resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaxiiApiRoot {
    #[serde(default)]
    pub title: String,
    /// The media types of the TAXII versions served, such as [`TAXII_MEDIA_TYPE`].
    #[serde(default)]
    pub versions: Vec<String>,
    /// The largest request body the server accepts, in bytes.
    pub max_content_length: Option<u64>,
}

/// A collection of an API root.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TaxiiCollection {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub can_read: bool,
    #[serde(default)]
    pub can_write: bool,
    #[serde(default)]
    pub media_types: Vec<String>,
}

/// The objects read from a collection.
#[derive(Debug, Clone)]
pub struct TaxiiObjects {
    /// The objects URL of the collection.
    pub url: String,
    /// The STIX objects of every page, in the order the server sent them.
    pub objects: Vec<Value>,
    /// How many pages were read.
    pub pages: u32,
    /// How many response bytes were read.
    pub bytes: u64,
    /// The latest `X-TAXII-Date-Added-Last` received: pass it as
    /// `added_after` to resume. `None` when no page carried the header.
    pub added_last: Option<DateTime<Utc>>,
    /// False when a page or byte limit stopped the reading before the
    /// server reported that no more objects are left.
    pub complete: bool,
}

impl TaxiiObjects {
    /// Converts the objects into a STIX bundle named after the collection URL.
    pub fn into_bundle(self) -> Result<StixBundle, IntelError> {
        StixBundle::from_objects(&self.url, self.objects)
    }
}

#[derive(Deserialize)]
struct RawDiscovery {
    #[serde(default)]
    title: String,
    default: Option<String>,
    #[serde(default)]
    api_roots: Vec<String>,
}

#[derive(Deserialize)]
struct RawCollections {
    #[serde(default)]
    collections: Vec<TaxiiCollection>,
}

/// A page of objects: the TAXII envelope.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    next: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
}

/// A client for one TAXII 2.1 server.
#[derive(Debug)]
pub struct TaxiiClient {
    config: TaxiiConfig,
    discovery_url: Url,
    http: Client,
}

impl TaxiiClient {
    /// Checks the configuration and builds the HTTP client.
    pub fn new(config: TaxiiConfig) -> Result<TaxiiClient, TaxiiError> {
        let discovery_url = discovery_url(&config.url)?;
        if config.timeout_seconds == 0 || config.connect_timeout_seconds == 0 {
            return Err(TaxiiError::Config {
                field: "timeout_seconds",
                reason: "timeouts must be at least 1 second".into(),
            });
        }
        if config.max_pages == 0 || config.max_page_bytes == 0 || config.max_total_bytes == 0 {
            return Err(TaxiiError::Config {
                field: "max_pages",
                reason: "max_pages, max_page_bytes and max_total_bytes must be above 0".into(),
            });
        }

        let http = Client::builder()
            .timeout(Duration::from_secs(config.timeout_seconds))
            .connect_timeout(Duration::from_secs(config.connect_timeout_seconds))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("ctem/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| TaxiiError::Config {
                field: "url",
                reason: format!("failed to build the HTTP client: {}", describe(&error)),
            })?;
        Ok(TaxiiClient {
            config,
            discovery_url,
            http,
        })
    }

    /// Returns the discovery URL that requests start from.
    pub fn discovery_url(&self) -> &Url {
        &self.discovery_url
    }

    /// Reads the discovery resource. API roots on another origin are rejected.
    pub fn discover(&self) -> Result<TaxiiDiscovery, TaxiiError> {
        let raw: RawDiscovery = self.get_json(&self.discovery_url)?.0;
        let default = raw.default.map(|text| self.server_url(&text)).transpose()?;
        let api_roots = raw
            .api_roots
            .iter()
            .map(|text| self.server_url(text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TaxiiDiscovery {
            title: raw.title,
            default,
            api_roots,
        })
    }

    /// Reads an API root and checks that it serves TAXII 2.1.
    pub fn api_root(&self, api_root: &Url) -> Result<TaxiiApiRoot, TaxiiError> {
        let url = self.folder_url(api_root)?;
        let root: TaxiiApiRoot = self.get_json(&url)?.0;
        let serves_21 = root.versions.iter().any(|version| is_taxii_21(version));
        if !root.versions.is_empty() && !serves_21 {
            return Err(TaxiiError::Protocol {
                url: url.to_string(),
                reason: format!(
                    "the API root serves {:?} but not {TAXII_MEDIA_TYPE}",
                    shorten(&root.versions.join(", "))
                ),
            });
        }
        Ok(root)
    }

    /// Lists the collections of an API root.
    pub fn collections(&self, api_root: &Url) -> Result<Vec<TaxiiCollection>, TaxiiError> {
        let url = self
            .folder_url(api_root)?
            .join("collections/")
            .map_err(|error| TaxiiError::Config {
                field: "url",
                reason: error.to_string(),
            })?;
        let raw: RawCollections = self.get_json(&url)?.0;
        Ok(raw.collections)
    }

    /// Reads the objects of a collection added after `added_after` (all of
    /// them when `None`), page by page within the configured limits.
    pub fn objects(
        &self,
        api_root: &Url,
        collection_id: &str,
        added_after: Option<DateTime<Utc>>,
    ) -> Result<TaxiiObjects, TaxiiError> {
        let base = self.objects_url(api_root, collection_id)?;
        let mut result = TaxiiObjects {
            url: base.to_string(),
            objects: Vec::new(),
            pages: 0,
            bytes: 0,
            added_last: None,
            complete: false,
        };
        let mut after = added_after;
        let mut next: Option<String> = None;

        loop {
            if result.pages >= self.config.max_pages || result.bytes >= self.config.max_total_bytes {
                tracing::warn!(
                    url = %base,
                    pages = result.pages,
                    bytes = result.bytes,
                    "TAXII collection has more objects than the page or byte limit allows; resume from added_last"
                );
                break;
            }

            let url = page_url(&base, after, self.config.page_size, next.as_deref());
            let remaining = self.config.max_total_bytes - result.bytes;
            let response = self.get_json_limited::<Envelope>(&url, remaining);
            let (page, headers, bytes) = match response {
                // The byte limit of the whole call, not the page limit, stopped this page.
                Err(TaxiiError::TooLarge { .. }) if remaining < self.config.max_page_bytes => {
                    tracing::warn!(
                        url = %url,
                        bytes = result.bytes,
                        "TAXII collection has more objects than max_total_bytes allows; resume from added_last"
                    );
                    break;
                }
                other => other?,
            };
            result.pages += 1;
            result.bytes += bytes;
            result.objects.extend(page.objects);

            let page_last = date_added_last(&url, &headers)?;
            if page_last.is_some() {
                result.added_last = result.added_last.max(page_last);
            }
            tracing::debug!(url = %url, objects = result.objects.len(), more = page.more, "TAXII page read");
            if !page.more {
                result.complete = true;
                break;
            }

            match (page.next, page_last) {
                (Some(token), _) if !token.is_empty() => next = Some(token),
                (_, Some(last)) if after.is_none_or(|after| last > after) => {
                    after = Some(last);
                    next = None;
                }
                _ => {
                    return Err(TaxiiError::Protocol {
                        url: url.to_string(),
                        reason: format!(
                            "more is true, but the page has no next value and no {TAXII_DATE_ADDED_LAST} header later than added_after to continue from"
                        ),
                    });
                }
            }
        }
        Ok(result)
    }

    /// Resolves a URL from a server response and checks its origin.
    fn server_url(&self, text: &str) -> Result<Url, TaxiiError> {
        let url = self.discovery_url.join(text).map_err(|error| TaxiiError::Protocol {
            url: self.discovery_url.to_string(),
            reason: format!("invalid URL {:?}: {error}", shorten(text)),
        })?;
        self.check_origin(&url)?;
        Ok(url)
    }

    fn check_origin(&self, url: &Url) -> Result<(), TaxiiError> {
        if url.origin() != self.discovery_url.origin() {
            return Err(TaxiiError::OtherOrigin {
                url: url.to_string(),
                origin: self.discovery_url.origin().ascii_serialization(),
            });
        }
        Ok(())
    }

    /// Returns the URL with a trailing slash, as TAXII resource URLs have.
    fn folder_url(&self, url: &Url) -> Result<Url, TaxiiError> {
        self.check_origin(url)?;
        let mut url = url.clone();
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(url)
    }

    fn objects_url(&self, api_root: &Url, collection_id: &str) -> Result<Url, TaxiiError> {
        if collection_id.is_empty() || collection_id.contains(['/', '?', '#']) {
            return Err(TaxiiError::Config {
                field: "collection",
                reason: format!("invalid collection id {:?}", shorten(collection_id)),
            });
        }
        let mut url = self.folder_url(api_root)?;
        url.path_segments_mut()
            .map_err(|()| TaxiiError::Config {
                field: "url",
                reason: format!("{api_root} cannot be a base URL"),
            })?
            .pop_if_empty()
            .extend(["collections", collection_id, "objects", ""]);
        Ok(url)
    }

    fn request(&self, url: &Url) -> RequestBuilder {
        let request = self.http.get(url.clone()).header(ACCEPT, TAXII_MEDIA_TYPE);
        match &self.config.auth {
            TaxiiAuth::None => request,
            TaxiiAuth::Basic { username, password } => request.basic_auth(username, Some(password)),
            TaxiiAuth::Bearer { token } => request.bearer_auth(token),
        }
    }

    fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<(T, HeaderMap, u64), TaxiiError> {
        self.get_json_limited(url, u64::MAX)
    }

    /// Sends a GET and parses the JSON body, read up to `max_page_bytes`
    /// and `remaining` bytes.
    fn get_json_limited<T: DeserializeOwned>(
        &self,
        url: &Url,
        remaining: u64,
    ) -> Result<(T, HeaderMap, u64), TaxiiError> {
        let url_text = url.to_string();
        let failed = |error: reqwest::Error| TaxiiError::Request {
            url: url_text.clone(),
            reason: describe(&error),
        };
        let response = self.request(url).send().map_err(failed)?;

        let status = response.status().as_u16();
        match status {
            200 => {}
            401 | 403 => return Err(TaxiiError::Unauthorized { url: url_text, status }),
            406 => return Err(TaxiiError::NotAcceptable { url: url_text }),
            _ => {
                let mut body = String::new();
                let _ = response.take(4096).read_to_string(&mut body);
                return Err(TaxiiError::Status {
                    url: url_text,
                    status,
                    message: shorten(body.trim()),
                });
            }
        }
        if let Some(content_type) = response.headers().get(CONTENT_TYPE)
            && !content_type.to_str().is_ok_and(|text| text.contains("json"))
        {
            return Err(TaxiiError::Protocol {
                url: url_text,
                reason: format!("expected the content type {TAXII_MEDIA_TYPE}, found {content_type:?}"),
            });
        }

        let limit = self.config.max_page_bytes.min(remaining);
        let too_large = || TaxiiError::TooLarge {
            url: url_text.clone(),
            limit,
        };
        if response.content_length().is_some_and(|length| length > limit) {
            return Err(too_large());
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        response
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|error| TaxiiError::Request {
                url: url_text.clone(),
                reason: format!("failed to read the response: {error}"),
            })?;
        if body.len() as u64 > limit {
            return Err(too_large());
        }

        check_depth(&url_text, &body, STIX_MAX_DEPTH, "TAXII")?;
        let value = serde_json::from_slice(&body).map_err(|error| json_error(&url_text, &error, "TAXII response"))?;
        Ok((value, headers, body.len() as u64))
    }
}

/// Parses the configured URL; an empty path becomes `/taxii2/`.
fn discovery_url(text: &str) -> Result<Url, TaxiiError> {
    let invalid = |reason: String| TaxiiError::Config { field: "url", reason };
    let mut url =
        Url::parse(text.trim()).map_err(|error| invalid(format!("invalid URL {:?}: {error}", shorten(text))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "expected an http or https URL, found {:?}",
            shorten(text)
        )));
    }
    if url.path() == "/" {
        url.set_path("/taxii2/");
    } else if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn page_url(base: &Url, added_after: Option<DateTime<Utc>>, page_size: Option<u32>, next: Option<&str>) -> Url {
    let mut url = base.clone();
    {
        let mut query = url.query_pairs_mut();
        if let Some(after) = added_after {
            query.append_pair("added_after", &after.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        if let Some(limit) = page_size {
            query.append_pair("limit", &limit.to_string());
        }
        if let Some(next) = next {
            query.append_pair("next", next);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

fn date_added_last(url: &Url, headers: &HeaderMap) -> Result<Option<DateTime<Utc>>, TaxiiError> {
    let Some(value) = headers.get(TAXII_DATE_ADDED_LAST) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    let time = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| TaxiiError::Protocol {
        url: url.to_string(),
        reason: format!(
            "invalid {TAXII_DATE_ADDED_LAST} {:?}: expected an RFC 3339 timestamp",
            shorten(text)
        ),
    })?;
    Ok(Some(time.with_timezone(&Utc)))
}

/// Compares media types without the spaces and case that servers vary.
fn is_taxii_21(media_type: &str) -> bool {
    let compact: String = media_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    compact == TAXII_MEDIA_TYPE
}

/// Describes a reqwest error with its causes, which its `Display` leaves out
/// (the cause contains the reason, such as "connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_gets_default_path() {
        assert_eq!(
            discovery_url("https://taxii.example").unwrap().as_str(),
            "https://taxii.example/taxii2/"
        );
        assert_eq!(
            discovery_url("https://taxii.example/feeds/taxii2").unwrap().as_str(),
            "https://taxii.example/feeds/taxii2/"
        );
    }

    #[test]
    fn discovery_url_rejects_other_schemes() {
        assert!(matches!(
            discovery_url("ftp://taxii.example/"),
            Err(TaxiiError::Config { .. })
        ));
        assert!(matches!(discovery_url("not a url"), Err(TaxiiError::Config { .. })));
    }

    #[test]
    fn media_type_comparison_ignores_spaces() {
        assert!(is_taxii_21("application/taxii+json; version=2.1"));
        assert!(!is_taxii_21("application/taxii+json;version=2.0"));
    }

    #[test]
    fn page_url_encodes_parameters() {
        let base = Url::parse("http://127.0.0.1:1/api/collections/c/objects/").unwrap();
        let after = DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let url = page_url(&base, Some(after), Some(2), Some("a b&c"));
        assert_eq!(
            url.query(),
            Some("added_after=2024-01-02T03%3A04%3A05.000Z&limit=2&next=a+b%26c")
        );
        assert_eq!(page_url(&base, None, None, None).query(), None);
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let basic = TaxiiAuth::Basic {
            username: "analyst".into(),
            password: "hunter2".into(),
        };
        let bearer = TaxiiAuth::Bearer {
            token: "tok-123".into(),
        };
        assert!(!format!("{basic:?}").contains("hunter2"));
        assert!(format!("{basic:?}").contains("analyst"));
        assert!(!format!("{bearer:?}").contains("tok-123"));
    }
}
