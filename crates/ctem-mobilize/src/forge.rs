//! Code shared by the GitHub and GitLab connectors: configuration defaults
//! and checks, paged issue lists, the index of issues by marker and the
//! parts of an issue that both forges return alike.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::http::{HttpClient, Repeat, RetryPolicy};
use crate::jira::malformed;
use crate::markdown;
use crate::tracker::{RemoteTicket, TrackerError};

/// The maximum number of list pages read in one listing: 1,000,000 issues
/// at 100 per page.
const MAX_PAGES: u32 = 10_000;

pub(crate) fn default_timeout() -> u64 {
    30
}

pub(crate) fn default_attempts() -> u32 {
    4
}

pub(crate) fn default_max_retry_after() -> u64 {
    120
}

pub(crate) fn default_backoff() -> u64 {
    500
}

/// Checks a tracker's base URL.
pub(crate) fn validate_url(field: &str, text: &str) -> Result<(), String> {
    // Without `://`, "127.0.0.1:8080" fails as a relative URL and
    // "localhost:8080" parses with the scheme "localhost".
    if !text.contains("://") {
        return Err(format!(
            "{field}: invalid URL {text:?}: it has no scheme; write it as https://HOST or http://HOST"
        ));
    }
    let url = reqwest::Url::parse(text).map_err(|error| format!("{field}: invalid URL {text:?}: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{field}: unsupported scheme {:?}; expected http or https",
            url.scheme()
        ));
    }
    Ok(())
}

pub(crate) fn validate_retry(section: &str, timeout_secs: u64, attempts: u32) -> Result<(), String> {
    if timeout_secs == 0 {
        return Err(format!("{section}.timeout_secs: must be at least 1"));
    }
    if attempts == 0 {
        return Err(format!("{section}.attempts: must be at least 1"));
    }
    Ok(())
}

pub(crate) fn retry_policy(attempts: u32, backoff_ms: u64, max_retry_after_secs: u64) -> RetryPolicy {
    RetryPolicy {
        attempts,
        backoff: Duration::from_millis(backoff_ms),
        max_retry_after: Duration::from_secs(max_retry_after_secs),
    }
}

/// The `ctem` issues of a forge by marker, from one listing, with the
/// issues created since.
///
/// A marker is found by listing the `ctem` issues rather than by a search,
/// because a search index can lag behind a create. After a crash between
/// the forge's reply and ctem's commit, the next sync must find the issue
/// just created. A connector serves one sync, so a sync lists the issues
/// once however many subjects it searches for.
#[derive(Debug, Default)]
pub(crate) struct MarkerIndex {
    tickets: Mutex<Option<HashMap<String, RemoteTicket>>>,
}

impl MarkerIndex {
    fn lock(&self) -> MutexGuard<'_, Option<HashMap<String, RemoteTicket>>> {
        self.tickets.lock().expect("the marker index is never poisoned")
    }

    /// Replaces the index with the issues of a full listing.
    pub fn fill(&self, tickets: &[RemoteTicket]) {
        let mut index = HashMap::new();
        for ticket in tickets {
            for marker in ticket.labels.iter().filter(|label| label.starts_with("ctem-")) {
                index.entry(marker.clone()).or_insert_with(|| ticket.clone());
            }
        }
        *self.lock() = Some(index);
    }

    /// Finds the issue with a marker. The index is filled from `list` first
    /// when it is empty, or when `refresh` is set because an issue may have
    /// been created since the listing.
    pub fn find(
        &self,
        marker: &str,
        refresh: bool,
        list: impl FnOnce() -> Result<Vec<RemoteTicket>, TrackerError>,
    ) -> Result<Option<RemoteTicket>, TrackerError> {
        if refresh || self.lock().is_none() {
            let tickets = list()?;
            self.fill(&tickets);
        }
        Ok(self.lock().as_ref().and_then(|index| index.get(marker)).cloned())
    }

    /// Adds an issue created after the listing. Without a listing there is
    /// nothing to add to, because the first search lists the issue anyway.
    pub fn add(&self, marker: &str, ticket: &RemoteTicket) {
        if let Some(index) = self.lock().as_mut() {
            index.insert(marker.to_string(), ticket.clone());
        }
    }
}

/// Returns the issue number of a key such as `#12`.
pub(crate) fn issue_number(key: &str) -> Option<u64> {
    key.strip_prefix('#')?.parse().ok()
}

/// Reads a list of issues page by page, from `first` on. `read_page` adds
/// the tickets of one page (a JSON array) and returns the URL of the next
/// page, if any.
pub(crate) fn read_pages(
    http: &HttpClient,
    first: String,
    mut read_page: impl FnMut(&[Value], &HeaderMap, &str, &mut Vec<RemoteTicket>) -> Result<Option<String>, TrackerError>,
) -> Result<Vec<RemoteTicket>, TrackerError> {
    let origin = first.clone();
    let mut next = Some(first);
    let mut tickets = Vec::new();
    for _ in 0..MAX_PAGES {
        let Some(url) = next.take() else {
            return Ok(tickets);
        };
        let (page, headers) = http.send_for_headers(Method::GET, &url, None, Repeat::Safe)?;
        let Value::Array(issues) = &page else {
            return Err(malformed(&url, "$", "expected an array of issues"));
        };
        next = read_page(issues, &headers, &url, &mut tickets)?;
    }
    Err(malformed(
        &origin,
        "$",
        &format!("more than {MAX_PAGES} pages of issues"),
    ))
}

/// Reads an issue's labels, given as names or as objects with a `name`,
/// and adds the marker found at the end of its Markdown text field
/// (`body` on GitHub, `description` on GitLab).
pub(crate) fn read_labels(
    issue: &Value,
    text_field: &str,
    url: &str,
    place: &str,
) -> Result<Vec<String>, TrackerError> {
    let mut labels: Vec<String> = match &issue["labels"] {
        Value::Array(labels) => labels
            .iter()
            .filter_map(|label| label.as_str().or(label["name"].as_str()).map(str::to_string))
            .collect(),
        Value::Null => Vec::new(),
        _ => return Err(malformed(url, &format!("{place}.labels"), "expected an array")),
    };
    if let Some(marker) = issue[text_field].as_str().and_then(markdown::marker_of) {
        labels.push(marker.to_string());
    }
    Ok(labels)
}

/// Reads an issue's `updated_at`, an RFC 3339 time, if present.
pub(crate) fn read_updated(issue: &Value, url: &str, place: &str) -> Result<Option<DateTime<Utc>>, TrackerError> {
    let Some(text) = issue["updated_at"].as_str() else {
        return Ok(None);
    };
    let time = DateTime::parse_from_rfc3339(text)
        .map_err(|error| malformed(url, &format!("{place}.updated_at"), &format!("invalid time: {error}")))?;
    Ok(Some(time.with_timezone(&Utc)))
}

/// Returns the `next` URL of a `Link` header (RFC 8288), if any. A next
/// page on another host than the API's is rejected, so that the token is
/// never sent elsewhere.
pub(crate) fn next_link(
    headers: &reqwest::header::HeaderMap,
    url: &str,
    api_url: &str,
) -> Result<Option<String>, TrackerError> {
    let Some(value) = headers.get(reqwest::header::LINK) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| malformed(url, "Link header", "not visible ASCII"))?;
    for part in text.split(',') {
        let mut pieces = part.split(';');
        let target = pieces.next().unwrap_or_default().trim();
        let is_next = pieces.any(|parameter| {
            let parameter = parameter.trim().replace(' ', "");
            parameter == "rel=\"next\"" || parameter == "rel=next"
        });
        if !is_next {
            continue;
        }
        let target = target
            .strip_prefix('<')
            .and_then(|target| target.strip_suffix('>'))
            .ok_or_else(|| malformed(url, "Link header", "expected <URL> before rel=\"next\""))?;
        let next = reqwest::Url::parse(target)
            .map_err(|error| malformed(url, "Link header", &format!("invalid next URL: {error}")))?;
        let api = reqwest::Url::parse(api_url)
            .map_err(|error| malformed(url, "Link header", &format!("invalid API URL: {error}")))?;
        if next.origin() != api.origin() {
            return Err(malformed(
                url,
                "Link header",
                &format!("the next page {target:?} is on another host than the API"),
            ));
        }
        return Ok(Some(next.to_string()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, LINK};

    fn link(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LINK, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn next_link_is_read() {
        let headers = link(
            "<https://api.github.com/repositories/1/issues?page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues?page=5>; rel=\"last\"",
        );
        let next = next_link(&headers, "u", "https://api.github.com").unwrap();
        assert_eq!(
            next.as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
    }

    #[test]
    fn last_page_has_no_next() {
        let headers = link("<https://api.github.com/x?page=1>; rel=\"prev\"");
        assert_eq!(next_link(&headers, "u", "https://api.github.com").unwrap(), None);
        assert_eq!(
            next_link(&HeaderMap::new(), "u", "https://api.github.com").unwrap(),
            None
        );
    }

    #[test]
    fn next_link_on_another_host_is_rejected() {
        let headers = link("<https://evil.example/x?page=2>; rel=\"next\"");
        let error = next_link(&headers, "u", "https://api.github.com").unwrap_err();
        assert!(error.to_string().contains("another host"), "{error}");
    }

    #[test]
    fn malformed_link_is_named() {
        let headers = link("https://api.github.com/x; rel=\"next\"");
        let error = next_link(&headers, "u", "https://api.github.com").unwrap_err();
        assert!(error.to_string().contains("Link header"), "{error}");
    }

    #[test]
    fn issue_keys_parse() {
        assert_eq!(issue_number("#12"), Some(12));
        assert_eq!(issue_number("12"), None);
        assert_eq!(issue_number("#../x"), None);
    }
}
