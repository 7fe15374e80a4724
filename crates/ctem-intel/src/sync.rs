//! The downloader of `ctem intel update`: fetches each configured feed into
//! the [`IntelCache`].
//!
//! # Sources and their default URLs
//!
//! | kind | default URL | on by default |
//! | --- | --- | --- |
//! | `kev` | <https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json> | yes |
//! | `epss` | <https://epss.empiricalsecurity.com/epss_scores-current.csv.gz> (FIRST's current-scores link; it redirects to the dated file) | yes |
//! | `attack` | the enterprise bundle of `mitre-attack/attack-stix-data` on raw GitHub | yes |
//! | `ctid-mappings` | the KEV to ATT&CK 16.1 enterprise mappings of `center-for-threat-informed-defense/mappings-explorer` on raw GitHub | yes |
//! | `exploit-db` | `files_exploits.csv` of `exploit-database/exploitdb` on GitLab | yes |
//! | `metasploit` | `db/modules_metadata_base.json` of `rapid7/metasploit-framework` on raw GitHub | yes |
//! | `nvd` | <https://services.nvd.nist.gov/rest/json/cves/2.0> | no: the first sync reads every CVE, hundreds of requests |
//! | `cve5`, `osv`, `stix`, `nuclei-templates` | none | only with a `url` |
//!
//! Only these URLs, or those that `[intel.sources.<kind>] url` sets, are
//! fetched. Redirects are followed (at most five), but never from HTTPS to HTTP.
//!
//! # Requests
//!
//! - Conditional: when the cache contains a file from the same URL, the request
//!   carries `If-None-Match` (its ETag) and `If-Modified-Since` (its
//!   `Last-Modified`). A `304 Not Modified` keeps the file and only moves
//!   `fetched_at` in `state.json`.
//! - Retries: connection failures, timeouts, `429` and `5xx` are retried
//!   with exponential backoff (doubling from [`SyncOptions::backoff`], at
//!   most [`SyncOptions::max_backoff`], each delay shortened by a random
//!   part of up to half) for [`SyncOptions::attempts`] attempts in all. A
//!   `Retry-After` header (seconds or an HTTP date) replaces the backoff; one
//!   that requests a longer wait than [`SyncOptions::max_retry_after`] fails the
//!   source instead of blocking the run. Other statuses fail at once.
//! - Timeouts: [`SyncOptions::connect_timeout`] bounds the connection, and
//!   [`SyncOptions::read_timeout`] bounds sending the request and each read
//!   of the body, so a stalled connection fails after it.
//! - Limits: a body larger than the source's `max_bytes` fails as soon as
//!   its `Content-Length` or its bytes pass it.
//! - Integrity: every file goes through the validator of its kind (see
//!   [`Validators`]), which reads gzip streams to their end, so a truncated
//!   gzip fails; where `sha256_url` names the publisher's checksum file, the
//!   SHA-256 must match. A failure leaves the previous file in place.
//!
//! # NVD
//!
//! The NVD CVE API 2.0 is read page by page (`resultsPerPage` of
//! [`SyncOptions::nvd_page_size`], `startIndex` moving by the records each
//! page returned, until `totalResults`). The first sync reads everything;
//! later ones ask only for CVEs modified since the last sync, with
//! `lastModStartDate`/`lastModEndDate` windows of at most 120 days, the
//! API's maximum. Requests keep to NVD's rate limits: 5 in any 30 seconds
//! without an API key, 50 with one. The key comes from the `NVD_API_KEY`
//! environment variable and is sent in the `apiKey` header, never logged.
//! Pages are staged in a temporary folder and moved into `nvd/pages/` only
//! when every page of the update arrived and validated; a first sync
//! replaces the folder, later ones add pages named after the time of the
//! update, so that reading them in name order applies changes in order.
//! Pages without records are not stored.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File};
use std::hash::BuildHasher;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url, redirect};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::cache::{CacheError, CacheLock, Incoming, IntelCache, Origin, SourceState, Staged, stage_in};
use crate::cache::{create_dir, io_error, remove_any, sync_dir};
use crate::error::shorten;
use crate::provenance::SourceKind;
use crate::validate::{FeedInfo, Validators};

/// The environment variable that contains an NVD API key.
pub const NVD_API_KEY_ENV: &str = "NVD_API_KEY";
/// The longest `lastModStartDate`..`lastModEndDate` window the NVD API accepts.
pub const NVD_MAX_WINDOW_DAYS: i64 = 120;
/// The folder of NVD pages inside `nvd/`.
pub const NVD_PAGES: &str = "pages";
/// The largest checksum file read from a `sha256_url`.
const CHECKSUM_MAX_BYTES: u64 = 64 * 1024;

/// `[intel.sources.<kind>]` in `ctem.toml`: one source's download settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {
    /// Whether `ctem intel update` fetches the source. Default: on for the
    /// sources with a default URL (but NVD), and for any source given a `url`.
    pub enabled: Option<bool>,
    /// The URL to fetch instead of the default (http or https).
    pub url: Option<String>,
    /// A URL of the publisher's SHA-256 checksum of the file (the first
    /// 64-digit hex word of the response is used).
    pub sha256_url: Option<String>,
    /// The largest response accepted, in bytes (per page for NVD).
    pub max_bytes: Option<u64>,
}

/// `[intel.download]` in `ctem.toml`: timeouts and retries of every source.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadSettings {
    /// Seconds to wait for a connection. Default 30.
    pub connect_timeout_secs: Option<f64>,
    /// Seconds to wait for the response headers and for each read of the body. Default 60.
    pub read_timeout_secs: Option<f64>,
    /// Attempts per request, the first included. Default 4.
    pub attempts: Option<u32>,
    /// Milliseconds before the first retry; each further retry waits twice as long. Default 1000.
    pub backoff_ms: Option<u64>,
    /// The longest `Retry-After`, in seconds, that a run waits for. Default 300.
    pub max_retry_after_secs: Option<u64>,
}

/// One source to fetch, with its URL and limits resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub kind: SourceKind,
    pub url: String,
    /// The file name in the source folder.
    pub file_name: String,
    pub max_bytes: u64,
    pub sha256_url: Option<String>,
}

/// Returns the default URL of a kind, if it has one.
pub fn default_url(kind: SourceKind) -> Option<&'static str> {
    match kind {
        SourceKind::Kev => Some("https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"),
        SourceKind::Epss => Some("https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"),
        SourceKind::Attack => Some(
            "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json",
        ),
        SourceKind::CtidMappings => Some(
            "https://raw.githubusercontent.com/center-for-threat-informed-defense/mappings-explorer/main/mappings/kev/attack-16.1/kev-08.27.2025/enterprise/kev-08.27.2025_attack-16.1-enterprise.json",
        ),
        SourceKind::ExploitDb => Some("https://gitlab.com/exploit-database/exploitdb/-/raw/main/files_exploits.csv"),
        SourceKind::Metasploit => {
            Some("https://raw.githubusercontent.com/rapid7/metasploit-framework/master/db/modules_metadata_base.json")
        }
        SourceKind::Nvd => Some("https://services.nvd.nist.gov/rest/json/cves/2.0"),
        SourceKind::Cve5 | SourceKind::Osv | SourceKind::Stix | SourceKind::NucleiTemplates => None,
    }
}

/// Returns the default size limit of a kind: several times the size of the feed in 2025.
pub fn default_max_bytes(kind: SourceKind) -> u64 {
    const MIB: u64 = 1024 * 1024;
    match kind {
        SourceKind::Kev => 64 * MIB,
        SourceKind::Epss => 128 * MIB,
        SourceKind::Nvd => 128 * MIB,
        // The loaders of the other kinds read at most 256 MiB, so a larger
        // download could never validate.
        _ => 256 * MIB,
    }
}

/// Tells whether a kind is fetched when the configuration does not mention it.
fn enabled_by_default(kind: SourceKind) -> bool {
    default_url(kind).is_some() && kind != SourceKind::Nvd
}

/// Resolves the sources to fetch from `[intel.sources]`, keyed by kind
/// identifier, in [`SourceKind::ALL`] order. An unknown kind, an invalid
/// URL or an enabled source without URL is an error naming the key.
pub fn plan(settings: &BTreeMap<String, SourceSettings>) -> Result<Vec<Feed>, String> {
    let mut named: BTreeMap<SourceKind, &str> = BTreeMap::new();
    for key in settings.keys() {
        let Some(kind) = SourceKind::parse(key) else {
            let valid: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(format!(
                "intel.sources.{key}: unknown source; expected one of {}",
                valid.join(", ")
            ));
        };
        // Two spellings of one source would leave one of them unused
        // without a word, such as a mirror URL under `KEV` beside `kev`.
        if let Some(earlier) = named.insert(kind, key) {
            return Err(format!(
                "intel.sources.{key}: names the same source as intel.sources.{earlier}; keep one"
            ));
        }
    }

    let mut feeds = Vec::new();
    for kind in SourceKind::ALL {
        let configured = settings
            .iter()
            .find(|(key, _)| SourceKind::parse(key) == Some(kind))
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        let enabled = configured
            .enabled
            .unwrap_or(enabled_by_default(kind) || configured.url.is_some());
        if !enabled {
            continue;
        }
        let place = format!("intel.sources.{kind}");
        let Some(url) = configured.url.clone().or_else(|| default_url(kind).map(str::to_string)) else {
            return Err(format!("{place}: enabled, but {kind} has no default URL; set url"));
        };
        let parsed = check_url(&url).map_err(|reason| format!("{place}.url: {reason}"))?;
        if let Some(checksum) = &configured.sha256_url {
            check_url(checksum).map_err(|reason| format!("{place}.sha256_url: {reason}"))?;
        }
        if configured.max_bytes == Some(0) {
            return Err(format!("{place}.max_bytes: must be more than 0"));
        }
        feeds.push(Feed {
            kind,
            file_name: file_name(kind, &parsed),
            url,
            max_bytes: configured.max_bytes.unwrap_or(default_max_bytes(kind)),
            sha256_url: configured.sha256_url,
        });
    }
    Ok(feeds)
}

fn check_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|error| format!("invalid URL {:?}: {error}", shorten(text)))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!(
            "unsupported scheme {other:?} in {:?}; use http or https",
            shorten(text)
        )),
    }
}

/// Picks the file name: the last segment of the URL's path when it is a plain file name, else the kind.
fn file_name(kind: SourceKind, url: &Url) -> String {
    if kind == SourceKind::Nvd {
        return NVD_PAGES.to_string();
    }
    let last = url
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or("");
    let plain = !last.is_empty()
        && !last.starts_with('.')
        && last.len() <= 128
        && last.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && last != crate::cache::STATE_FILE
        && last != crate::cache::ERROR_FILE;
    if plain {
        last.to_string()
    } else {
        format!("{kind}.data")
    }
}

/// Timeouts, retries and rate limits of a [`Syncer`].
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Attempts per request, the first included; at least 1.
    pub attempts: u32,
    /// The wait before the first retry.
    pub backoff: Duration,
    /// The maximum wait between two attempts that backoff reaches.
    pub max_backoff: Duration,
    /// The longest `Retry-After` that is waited for.
    pub max_retry_after: Duration,
    /// The NVD API key, sent in the `apiKey` header.
    pub nvd_api_key: Option<String>,
    /// NVD requests allowed per [`SyncOptions::nvd_rate_window`]; default 5, or 50 with a key.
    pub nvd_rate_requests: usize,
    pub nvd_rate_window: Duration,
    /// `resultsPerPage` of NVD requests; 2,000 is the API's maximum.
    pub nvd_page_size: u32,
}

impl Default for SyncOptions {
    fn default() -> SyncOptions {
        SyncOptions {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            attempts: 4,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
            nvd_api_key: None,
            nvd_rate_requests: 5,
            nvd_rate_window: Duration::from_secs(30),
            nvd_page_size: 2000,
        }
    }
}

impl SyncOptions {
    /// Builds the defaults, changed by `[intel.download]` and with the NVD key of
    /// [`NVD_API_KEY_ENV`], which raises the NVD rate to 50 requests.
    pub fn from_settings(settings: &DownloadSettings) -> Result<SyncOptions, String> {
        let mut options = SyncOptions::default();
        let seconds = |value: Option<f64>, field: &str| -> Result<Option<Duration>, String> {
            value
                .map(|secs| {
                    Duration::try_from_secs_f64(secs)
                        .ok()
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| format!("intel.download.{field}: expected a positive number, found {secs}"))
                })
                .transpose()
        };
        if let Some(timeout) = seconds(settings.connect_timeout_secs, "connect_timeout_secs")? {
            options.connect_timeout = timeout;
        }
        if let Some(timeout) = seconds(settings.read_timeout_secs, "read_timeout_secs")? {
            options.read_timeout = timeout;
        }
        if let Some(attempts) = settings.attempts {
            if attempts == 0 {
                return Err("intel.download.attempts: must be at least 1".into());
            }
            options.attempts = attempts;
        }
        if let Some(ms) = settings.backoff_ms {
            options.backoff = Duration::from_millis(ms);
        }
        if let Some(secs) = settings.max_retry_after_secs {
            options.max_retry_after = Duration::from_secs(secs);
        }
        if let Some(key) = std::env::var(NVD_API_KEY_ENV).ok().filter(|k| !k.trim().is_empty()) {
            options.nvd_api_key = Some(key.trim().to_string());
            options.nvd_rate_requests = 50;
        }
        Ok(options)
    }
}

/// A source that could not be updated. The cache keeps its previous file.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The request failed: no connection, a timeout, or an error status.
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },

    /// The response is larger than the source's limit.
    #[error(
        "{url}: the response is larger than the limit of {limit} bytes; if the feed has grown, raise [intel.sources.{kind}] max_bytes"
    )]
    TooLarge { url: String, kind: SourceKind, limit: u64 },

    /// An NVD response that is not a page of the CVE API 2.0.
    #[error("{url}: not an NVD CVE API 2.0 page: {reason}")]
    NvdPage { url: String, reason: String },

    /// The cache refused the file (invalid, wrong checksum) or could not be written.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// The result of an update of one source.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A new file is in the cache.
    Updated(SourceState),
    /// The server replied `304 Not Modified`, so the cached file stays.
    NotModified(SourceState),
}

impl Outcome {
    /// Returns the source's state after the update.
    pub fn state(&self) -> &SourceState {
        match self {
            Outcome::Updated(state) | Outcome::NotModified(state) => state,
        }
    }
}

/// The result of one source in [`Syncer::update_all`].
#[derive(Debug)]
pub struct SourceReport {
    pub kind: SourceKind,
    pub url: String,
    pub result: Result<Outcome, SyncError>,
}

/// Downloads feeds into a cache.
#[derive(Debug)]
pub struct Syncer {
    client: Client,
    options: SyncOptions,
    cache: IntelCache,
    validators: Validators,
    nvd_requests: Mutex<VecDeque<Instant>>,
}

/// The result of one HTTP request.
enum Fetched {
    NotModified,
    Body {
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// The failure of one attempt, and whether another may succeed.
enum Failure {
    Retry { error: SyncError, after: Option<Duration> },
    Fatal(SyncError),
}

impl Syncer {
    /// Builds the HTTP client (rustls, with the platform's trusted roots).
    pub fn new(cache: IntelCache, options: SyncOptions) -> Result<Syncer, SyncError> {
        let policy = redirect::Policy::custom(|attempt| {
            let downgrade = attempt.url().scheme() == "http"
                && attempt
                    .previous()
                    .last()
                    .is_some_and(|previous| previous.scheme() == "https");
            if downgrade {
                attempt.error("redirect from HTTPS to HTTP refused")
            } else if attempt.previous().len() > 5 {
                attempt.error("more than 5 redirects")
            } else {
                attempt.follow()
            }
        });
        let client = Client::builder()
            .user_agent(concat!("ctem/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .timeout(options.read_timeout)
            .redirect(policy)
            .build()
            .map_err(|error| SyncError::Http {
                url: "HTTP client".to_string(),
                reason: format!("setup failed: {}", describe(&error)),
            })?;
        Ok(Syncer {
            client,
            options,
            cache,
            validators: Validators::default(),
            nvd_requests: Mutex::new(VecDeque::new()),
        })
    }

    /// Uses these validators instead of the defaults.
    pub fn with_validators(mut self, validators: Validators) -> Syncer {
        self.validators = validators;
        self
    }

    /// Returns the cache this syncer writes to.
    pub fn cache(&self) -> &IntelCache {
        &self.cache
    }

    /// Updates every feed under one cache lock. A failed source is
    /// reported, recorded in its `last-error.json`, and the others go on.
    /// Fails as a whole only when the lock cannot be taken.
    pub fn update_all(&self, feeds: &[Feed]) -> Result<Vec<SourceReport>, CacheError> {
        let lock = self.cache.lock()?;
        let mut reports = Vec::with_capacity(feeds.len());
        for feed in feeds {
            let result = self.update(&lock, feed);
            match &result {
                Ok(Outcome::Updated(state)) => {
                    tracing::info!(source = %feed.kind, url = %feed.url, records = ?state.records, "feed updated");
                }
                Ok(Outcome::NotModified(_)) => {
                    tracing::info!(source = %feed.kind, url = %feed.url, "feed not modified");
                }
                Err(error) => {
                    tracing::warn!(source = %feed.kind, url = %feed.url, %error, "feed update failed; the cached file stays");
                    if let Err(record) = self.cache.record_error(&lock, feed.kind, &error.to_string()) {
                        tracing::warn!(source = %feed.kind, error = %record, "cannot record the failure");
                    }
                }
            }
            reports.push(SourceReport {
                kind: feed.kind,
                url: feed.url.clone(),
                result,
            });
        }
        Ok(reports)
    }

    /// Updates one feed. On error the cache is left as it was.
    pub fn update(&self, lock: &CacheLock, feed: &Feed) -> Result<Outcome, SyncError> {
        if feed.kind == SourceKind::Nvd {
            return self.update_nvd(lock, feed);
        }

        let previous = self.cache.state(feed.kind)?;
        let conditional = match (&previous, self.cache.file(feed.kind)?) {
            (Some(state), Some(_)) if state.source == feed.url => Some(state),
            _ => None,
        };
        let mut headers = HeaderMap::new();
        if let Some(state) = conditional {
            if let Some(etag) = state.etag.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = state
                .last_modified
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                headers.insert(header::IF_MODIFIED_SINCE, date);
            }
        }

        let expected_sha256 = match &feed.sha256_url {
            Some(url) => Some(self.fetch_checksum(feed.kind, url)?),
            None => None,
        };

        let mut staged = self.cache.stage(lock, feed.kind)?;
        let fetched = self.fetch(feed.kind, &feed.url, &headers, feed.max_bytes, &mut staged, false)?;
        let (etag, last_modified) = match fetched {
            Fetched::NotModified => {
                let Some(mut state) = conditional.cloned() else {
                    return Err(SyncError::Http {
                        url: feed.url.clone(),
                        reason: "304 Not Modified to a request that was not conditional".into(),
                    });
                };
                state.fetched_at = Utc::now();
                self.cache.write_state(lock, &state)?;
                return Ok(Outcome::NotModified(state));
            }
            Fetched::Body { etag, last_modified } => (etag, last_modified),
        };

        let incoming = Incoming {
            origin: Origin::Download,
            source: feed.url.clone(),
            etag,
            last_modified,
            expected_sha256,
        };
        let state = self
            .cache
            .commit(lock, feed.kind, staged, &feed.file_name, incoming, &self.validators)?;
        Ok(Outcome::Updated(state))
    }

    /// Fetches the publisher's checksum file and returns its first 64-digit hex word.
    fn fetch_checksum(&self, kind: SourceKind, url: &str) -> Result<String, SyncError> {
        let dir = self.cache.root().to_path_buf();
        create_dir(&dir)?;
        let mut staged = stage_in(&dir)?;
        self.fetch(kind, url, &HeaderMap::new(), CHECKSUM_MAX_BYTES, &mut staged, false)?;
        let mut text = String::new();
        File::open(staged.path())
            .and_then(|mut file| file.read_to_string(&mut text))
            .map_err(|error| SyncError::Http {
                url: url.to_string(),
                reason: format!("the checksum file is not text: {error}"),
            })?;
        text.split(|c: char| !c.is_ascii_hexdigit())
            .find(|word| word.len() == 64)
            .map(str::to_ascii_lowercase)
            .ok_or_else(|| SyncError::Http {
                url: url.to_string(),
                reason: format!("no SHA-256 (64 hex digits) in the checksum file: {:?}", shorten(&text)),
            })
    }

    /// Fetches `url` into `staged`, retrying what may succeed later.
    fn fetch(
        &self,
        kind: SourceKind,
        url: &str,
        headers: &HeaderMap,
        max_bytes: u64,
        staged: &mut Staged,
        nvd: bool,
    ) -> Result<Fetched, SyncError> {
        let attempts = self.options.attempts.max(1);
        let mut attempt = 1;
        loop {
            if nvd {
                self.wait_for_nvd_rate();
            }
            let error = match self.try_fetch(kind, url, headers, max_bytes, staged) {
                Ok(fetched) => return Ok(fetched),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry { error, after }) if attempt < attempts => {
                    let wait = match after {
                        Some(after) if after > self.options.max_retry_after => {
                            return Err(SyncError::Http {
                                url: url.to_string(),
                                reason: format!(
                                    "{error}; the server asks to retry after {} s, more than the {} s allowed (intel.download.max_retry_after_secs)",
                                    after.as_secs(),
                                    self.options.max_retry_after.as_secs()
                                ),
                            });
                        }
                        Some(after) => after,
                        None => self.backoff(attempt),
                    };
                    tracing::info!(url, attempt, wait_ms = wait.as_millis() as u64, %error, "retrying");
                    std::thread::sleep(wait);
                    error
                }
                Err(Failure::Retry { error, .. }) => return Err(error),
            };
            drop(error);
            let path = staged.path().to_path_buf();
            let file = staged.file();
            file.set_len(0)
                .and_then(|()| file.rewind())
                .map_err(|e| io_error(&path, e))?;
            attempt += 1;
        }
    }

    fn try_fetch(
        &self,
        kind: SourceKind,
        url: &str,
        headers: &HeaderMap,
        max_bytes: u64,
        staged: &mut Staged,
    ) -> Result<Fetched, Failure> {
        let http = |reason: String| SyncError::Http {
            url: url.to_string(),
            reason,
        };
        let mut request = self.client.get(url).headers(headers.clone());
        if let Some(key) = self.options.nvd_api_key.as_deref().filter(|_| kind == SourceKind::Nvd) {
            let mut value = HeaderValue::from_str(key)
                .map_err(|_| Failure::Fatal(http("NVD_API_KEY is not a valid header value".into())))?;
            value.set_sensitive(true);
            request = request.header("apiKey", value);
        }
        let mut response = request.send().map_err(|error| Failure::Retry {
            error: http(describe(&error)),
            after: None,
        })?;

        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Failure::Retry {
                error: http(format!("HTTP {status}")),
                after: retry_after(&response),
            });
        }
        if !status.is_success() {
            return Err(Failure::Fatal(http(format!("HTTP {status}"))));
        }
        if response.content_length().is_some_and(|length| length > max_bytes) {
            return Err(Failure::Fatal(SyncError::TooLarge {
                url: url.to_string(),
                kind,
                limit: max_bytes,
            }));
        }

        let etag = header_text(&response, header::ETAG);
        let last_modified = header_text(&response, header::LAST_MODIFIED);
        copy_limited(&mut response, staged, max_bytes).map_err(|copy| match copy {
            CopyError::TooLarge => Failure::Fatal(SyncError::TooLarge {
                url: url.to_string(),
                kind,
                limit: max_bytes,
            }),
            CopyError::Read(error) => Failure::Retry {
                error: http(format!("the response broke off: {error}")),
                after: None,
            },
            CopyError::Write(error) => Failure::Fatal(SyncError::Cache(io_error(staged.path(), error))),
        })?;
        Ok(Fetched::Body { etag, last_modified })
    }

    /// Computes the wait before retry number `attempt` (1 for the first retry):
    /// doubling backoff, capped, minus a random part of up to half.
    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self.options.backoff.saturating_mul(1u32 << (attempt - 1).min(20));
        let capped = doubled.min(self.options.max_backoff);
        let random = RandomState::new().hash_one(Instant::now()) % 1000;
        capped.mul_f64(1.0 - random as f64 / 2000.0)
    }

    /// Sleeps until another NVD request keeps within the rate limit.
    fn wait_for_nvd_rate(&self) {
        let mut sent = self
            .nvd_requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = self.options.nvd_rate_window;
        let limit = self.options.nvd_rate_requests.max(1);
        loop {
            let now = Instant::now();
            while sent.front().is_some_and(|&at| now.duration_since(at) >= window) {
                sent.pop_front();
            }
            if sent.len() < limit {
                sent.push_back(now);
                return;
            }
            let oldest = *sent.front().expect("the queue is full");
            std::thread::sleep(window.saturating_sub(now.duration_since(oldest)));
        }
    }

    /// Fetches the NVD pages changed since the last sync (or every page on
    /// the first), then installs them together.
    fn update_nvd(&self, lock: &CacheLock, feed: &Feed) -> Result<Outcome, SyncError> {
        let previous = self
            .cache
            .state(SourceKind::Nvd)?
            .filter(|state| state.source == feed.url);
        let cursor = previous.as_ref().and_then(|state| state.cursor);
        let until = Utc::now().trunc_subsecs(0);
        let windows = match cursor {
            Some(start) => nvd_windows(start, until),
            None => vec![None],
        };

        let dir = self.cache.source_dir(SourceKind::Nvd);
        let staging = dir.join(format!(".staging-{}", std::process::id()));
        let _ = remove_any(&staging);
        create_dir(&staging)?;
        let staging_guard = RemoveOnDrop(staging.clone());

        let stamp = until.format("%Y%m%dT%H%M%SZ").to_string();
        let pages_dir = dir.join(NVD_PAGES);
        let first_number = match cursor {
            Some(_) => fs::read_dir(&pages_dir).map_or(0, |entries| entries.count()),
            None => 0,
        };
        let mut pages = Vec::new();
        let mut records = 0u64;
        for window in windows {
            let mut start_index = 0u64;
            loop {
                let url = nvd_url(&feed.url, self.options.nvd_page_size, start_index, window)?;
                let mut staged = stage_in(&staging)?;
                self.fetch(
                    SourceKind::Nvd,
                    url.as_str(),
                    &HeaderMap::new(),
                    feed.max_bytes,
                    &mut staged,
                    true,
                )?;
                let page = read_nvd_page(url.as_str(), staged.path())?;
                self.validators
                    .validate(SourceKind::Nvd, url.as_str(), staged.path())
                    .map_err(CacheError::from)?;

                if page.returned > 0 {
                    // Numbered after the pages already stored, so that two
                    // updates within one second keep distinct, ordered names.
                    let name = format!("{stamp}-{:06}.json", first_number + pages.len());
                    staged.file().sync_all().map_err(|e| io_error(staged.path(), e))?;
                    let target = staging.join(&name);
                    fs::rename(staged.path(), &target).map_err(|e| io_error(&target, e))?;
                    pages.push(name);
                    records += page.returned;
                }

                start_index += page.returned;
                if page.returned == 0 || start_index >= page.total {
                    break;
                }
            }
        }

        let full = cursor.is_none();
        if full {
            let old = dir.join(format!(".old-{}", std::process::id()));
            if pages_dir.exists() {
                fs::rename(&pages_dir, &old).map_err(|e| io_error(&pages_dir, e))?;
            }
            create_dir(&pages_dir)?;
            let _ = remove_any(&old);
        } else {
            create_dir(&pages_dir)?;
        }
        for name in &pages {
            let target = pages_dir.join(name);
            fs::rename(staging.join(name), &target).map_err(|e| io_error(&target, e))?;
        }
        sync_dir(&pages_dir);
        drop(staging_guard);

        let (size, stored) = folder_size(&pages_dir)?;
        let total_records = if full {
            records
        } else {
            previous.as_ref().and_then(|s| s.records).unwrap_or(0) + records
        };
        let incoming = Incoming {
            origin: Origin::Download,
            source: feed.url.clone(),
            etag: None,
            last_modified: None,
            expected_sha256: None,
        };
        let info = FeedInfo {
            records: Some(total_records),
            version: Some(format!("{stored} pages")),
            date: Some(until.date_naive()),
        };
        let mut state = crate::cache::state_for_tree(SourceKind::Nvd, NVD_PAGES, incoming, size, info);
        state.cursor = Some(until);
        self.cache.write_state(lock, &state)?;
        Ok(Outcome::Updated(state))
    }
}

/// Splits into `lastModStartDate`..`lastModEndDate` windows the time from `start` to `end`,
/// none longer than [`NVD_MAX_WINDOW_DAYS`].
pub fn nvd_windows(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let step = chrono::Duration::days(NVD_MAX_WINDOW_DAYS);
    let mut windows = Vec::new();
    let mut from = start;
    while from < end {
        let to = (from + step).min(end);
        windows.push(Some((from, to)));
        from = to;
    }
    if windows.is_empty() {
        windows.push(Some((start, end.max(start))));
    }
    windows
}

fn nvd_url(
    base: &str,
    page_size: u32,
    start_index: u64,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<Url, SyncError> {
    let mut url = Url::parse(base).map_err(|error| SyncError::Http {
        url: base.to_string(),
        reason: format!("invalid URL: {error}"),
    })?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("resultsPerPage", &page_size.to_string());
        query.append_pair("startIndex", &start_index.to_string());
        if let Some((from, to)) = window {
            let format = "%Y-%m-%dT%H:%M:%S%.3f+00:00";
            query.append_pair("lastModStartDate", &from.format(format).to_string());
            query.append_pair("lastModEndDate", &to.format(format).to_string());
        }
    }
    Ok(url)
}

/// The paging fields of an NVD response.
struct NvdPage {
    total: u64,
    returned: u64,
}

fn read_nvd_page(url: &str, path: &Path) -> Result<NvdPage, SyncError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        total_results: u64,
        start_index: u64,
        vulnerabilities: Vec<IgnoredAny>,
    }
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let head: Head = serde_json::from_reader(std::io::BufReader::new(file)).map_err(|error| SyncError::NvdPage {
        url: url.to_string(),
        reason: shorten(&error.to_string()),
    })?;
    let returned = head.vulnerabilities.len() as u64;
    if head.start_index + returned > head.total_results {
        return Err(SyncError::NvdPage {
            url: url.to_string(),
            reason: format!(
                "startIndex {} plus {returned} records passes totalResults {}",
                head.start_index, head.total_results
            ),
        });
    }
    Ok(NvdPage {
        total: head.total_results,
        returned,
    })
}

fn folder_size(dir: &Path) -> Result<(u64, usize), CacheError> {
    let mut size = 0;
    let mut files = 0;
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        size += entry.metadata().map_err(|e| io_error(&entry.path(), e))?.len();
        files += 1;
    }
    Ok((size, files))
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = remove_any(&self.0);
    }
}

enum CopyError {
    TooLarge,
    Read(std::io::Error),
    Write(std::io::Error),
}

/// Copies the body into the staged file, failing past `max_bytes`.
fn copy_limited(response: &mut Response, staged: &mut Staged, max_bytes: u64) -> Result<u64, CopyError> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let file = staged.file();
    loop {
        let read = response.read(&mut buffer).map_err(CopyError::Read)?;
        if read == 0 {
            return Ok(total);
        }
        total += read as u64;
        if total > max_bytes {
            return Err(CopyError::TooLarge);
        }
        file.write_all(&buffer[..read]).map_err(CopyError::Write)?;
    }
}

fn header_text(response: &Response, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// Reads `Retry-After`: delay seconds or an HTTP date (RFC 9110, section 10.2.3).
fn retry_after(response: &Response) -> Option<Duration> {
    let text = header_text(response, header::RETRY_AFTER)?;
    parse_retry_after(&text, Utc::now())
}

fn parse_retry_after(text: &str, now: DateTime<Utc>) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = DateTime::parse_from_rfc2822(text).ok()?.with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// Describes a reqwest error in one line: what failed and the innermost cause.
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    format!("{what}: {cause}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn nvd_windows_stay_within_120_days() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let end = start + chrono::Duration::days(300);
        let windows: Vec<_> = nvd_windows(start, end).into_iter().flatten().collect();
        assert_eq!(windows.len(), 3);
        assert_eq!(windows[0].0, start);
        assert_eq!(windows[2].1, end);
        for (from, to) in &windows {
            assert!(*to - *from <= chrono::Duration::days(NVD_MAX_WINDOW_DAYS));
        }
        for pair in windows.windows(2) {
            assert_eq!(pair[0].1, pair[1].0);
        }
    }

    #[test]
    fn nvd_url_encodes_the_window() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let url = nvd_url("http://127.0.0.1:1/rest", 2000, 4000, Some((start, start))).unwrap();
        let query = url.query().unwrap();
        assert!(query.contains("resultsPerPage=2000&startIndex=4000"), "{query}");
        assert!(
            query.contains("lastModStartDate=2026-01-01T00%3A00%3A00.000%2B00%3A00"),
            "{query}"
        );
    }

    #[test]
    fn plan_rejects_two_spellings_of_one_source() {
        let mut settings = BTreeMap::new();
        let mirror = SourceSettings {
            url: Some("http://127.0.0.1:9/kev.json".into()),
            ..SourceSettings::default()
        };
        settings.insert("kev".to_string(), mirror);
        settings.insert("KEV".to_string(), SourceSettings::default());
        let error = plan(&settings).unwrap_err();
        assert!(error.contains("names the same source"), "{error}");
    }

    #[test]
    fn plan_rejects_unknown_sources_and_schemes() {
        let mut settings = BTreeMap::new();
        settings.insert("kevv".to_string(), SourceSettings::default());
        assert!(plan(&settings).unwrap_err().contains("intel.sources.kevv"));

        let mut settings = BTreeMap::new();
        settings.insert(
            "kev".to_string(),
            SourceSettings {
                url: Some("file:///etc/passwd".into()),
                ..SourceSettings::default()
            },
        );
        assert!(plan(&settings).unwrap_err().contains("unsupported scheme"));

        let mut settings = BTreeMap::new();
        settings.insert(
            "osv".to_string(),
            SourceSettings {
                enabled: Some(true),
                ..SourceSettings::default()
            },
        );
        assert!(plan(&settings).unwrap_err().contains("no default URL"));
    }

    #[test]
    fn plan_defaults_skip_nvd_and_sources_without_url() {
        let kinds: Vec<SourceKind> = plan(&BTreeMap::new()).unwrap().iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                SourceKind::Kev,
                SourceKind::Epss,
                SourceKind::Attack,
                SourceKind::CtidMappings,
                SourceKind::ExploitDb,
                SourceKind::Metasploit
            ]
        );
    }

    #[test]
    fn file_names_come_from_the_url() {
        let url = Url::parse("http://127.0.0.1:9/feeds/kev.json?x=1").unwrap();
        assert_eq!(file_name(SourceKind::Kev, &url), "kev.json");
        let url = Url::parse("http://127.0.0.1:9/feeds/").unwrap();
        assert_eq!(file_name(SourceKind::Kev, &url), "kev.data");
        let url = Url::parse("http://127.0.0.1:9/state.json").unwrap();
        assert_eq!(file_name(SourceKind::Kev, &url), "kev.data");
    }
}
