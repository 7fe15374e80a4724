//! Notifications: new immediate-tier (P1) work, SLA breaches and a weekly
//! digest, sent to a signed JSON webhook or a Slack incoming webhook.
//!
//! Notifications are not tickets: nothing is read back. Each event has a
//! key (`immediate:…`, `sla:…`, `digest:2026-W49`), and what was sent is
//! recorded in the store's ticket records under the tracker name
//! `notify:NAME`, claimed before the send, so that a rerun never sends
//! the same event twice.
//!
//! A webhook request carries `X-Ctem-Signature: sha256=HEX`, the
//! HMAC-SHA256 (RFC 2104) of the exact body with the configured secret,
//! `X-Ctem-Event` and `X-Ctem-Delivery` (the event key).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use ctem_model::Tier;
use ctem_store::{Claim, Store, StoreError, SubjectKind, TicketState};
use reqwest::blocking::Client;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::sync::WorkItem;
use crate::tracker::TrackerError;

/// The prefix of the tracker name under which a notifier's sent events
/// are recorded in the ticket records.
pub const CHANNEL_PREFIX: &str = "notify:";

/// The `[[tickets.notify]]` entries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// A name, unique among the notifiers, under which sent events are
    /// recorded.
    pub name: String,
    pub kind: NotifierKind,
    /// The webhook URL. Only for `webhook`, because a Slack webhook URL is
    /// itself a credential and comes from `url_env` or `url_file`.
    pub url: Option<String>,
    /// The environment variable with the URL.
    pub url_env: Option<String>,
    /// A file with the URL, relative to the folder of the configuration
    /// file.
    pub url_file: Option<PathBuf>,
    /// The environment variable with the signing secret of a `webhook`.
    pub secret_env: Option<String>,
    /// A file with the signing secret, read when the variable is unset.
    pub secret_file: Option<PathBuf>,
    /// The events sent. Default all: `immediate`, `sla_breach`, `digest`.
    #[serde(default = "all_events")]
    pub events: Vec<EventKind>,
    /// Seconds a request may take before it is abandoned. Default 10.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts per notification, counting the first. Default 3.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The first backoff between attempts, in milliseconds; it doubles
    /// with each retry. Default 500.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// The longest `Retry-After` waited for, in seconds. Default 60.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_secs: u64,
}

/// The receiver type of a notifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifierKind {
    /// Signed JSON to any HTTP endpoint.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
}

/// The kinds of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Work with an immediate-tier (P1) finding, sent once per finding.
    Immediate,
    /// Work past its SLA due date, sent once per subject and due date.
    SlaBreach,
    /// A summary of the open work, sent once per ISO week.
    Digest,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Immediate => "immediate",
            EventKind::SlaBreach => "sla_breach",
            EventKind::Digest => "digest",
        }
    }
}

fn all_events() -> Vec<EventKind> {
    vec![EventKind::Immediate, EventKind::SlaBreach, EventKind::Digest]
}

fn default_timeout() -> u64 {
    10
}

fn default_attempts() -> u32 {
    3
}

fn default_backoff() -> u64 {
    500
}

fn default_max_retry_after() -> u64 {
    60
}

impl NotifyConfig {
    /// Checks the values serde cannot. The error names the field.
    pub fn validate(&self, index: usize) -> Result<(), String> {
        let field = |name: &str| format!("tickets.notify[{index}].{name}");
        if self.name.trim().is_empty() || self.name.contains(char::is_whitespace) {
            return Err(format!(
                "{}: invalid name {:?}; expected a word without spaces",
                field("name"),
                self.name
            ));
        }
        let sources = [self.url.is_some(), self.url_env.is_some(), self.url_file.is_some()];
        if sources.iter().filter(|set| **set).count() != 1 {
            return Err(format!(
                "{}: set exactly one of url, url_env and url_file",
                field("url")
            ));
        }
        if let Some(url) = &self.url {
            crate::forge::validate_url(&field("url"), url)?;
        }
        match self.kind {
            NotifierKind::Slack if self.url.is_some() => {
                return Err(format!(
                    "{}: a Slack webhook URL is a credential; name it with url_env or url_file",
                    field("url")
                ));
            }
            NotifierKind::Webhook if self.secret_env.is_none() && self.secret_file.is_none() => {
                return Err(format!(
                    "{}: missing; a webhook signs its requests with secret_env or secret_file",
                    field("secret_env")
                ));
            }
            _ => {}
        }
        if self.events.is_empty() {
            return Err(format!("{}: must not be empty", field("events")));
        }
        crate::forge::validate_retry(&format!("tickets.notify[{index}]"), self.timeout_secs, self.attempts)
    }
}

/// One event to notify.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// The key under which a sent event is recorded.
    pub key: String,
    /// One line of plain text.
    pub summary: String,
    /// The JSON `data` of a webhook request.
    pub data: Value,
}

/// Builds the events of a sync from its work items: one `immediate` event
/// per P1 finding, one `sla_breach` per item past its due date, and one
/// `digest` per ISO week.
pub fn events_of(items: &[WorkItem], now: DateTime<Utc>) -> Vec<Event> {
    let mut events = Vec::new();
    let today = now.date_naive();
    for item in items {
        for finding in item.findings.iter().filter(|finding| finding.tier == Tier::P1) {
            events.push(Event {
                kind: EventKind::Immediate,
                key: format!("immediate:{}", finding.fingerprint),
                summary: format!(
                    "New P1 finding: {} on {} (score {:.1}), owner {}",
                    finding.title,
                    finding.asset,
                    finding.score,
                    owner_of(item)
                ),
                data: json!({
                    "fingerprint": finding.fingerprint,
                    "title": finding.title,
                    "asset": finding.asset,
                    "score": finding.score,
                    "subject": item.key,
                    "owner": item.owner.as_ref().map(|owner| &owner.team),
                    "due": item.due.map(|due| due.to_string()),
                }),
            });
        }
        if let Some(due) = item.due.filter(|due| *due < today) {
            events.push(Event {
                kind: EventKind::SlaBreach,
                key: format!("sla:{}:{due}", item.key),
                summary: format!(
                    "SLA breached: {} was due {due} ({} day(s) late), owner {}",
                    item.title,
                    (today - due).num_days(),
                    owner_of(item)
                ),
                data: json!({
                    "subject": item.key,
                    "title": item.title,
                    "tier": item.tier.as_str(),
                    "due": due.to_string(),
                    "days_late": (today - due).num_days(),
                    "owner": item.owner.as_ref().map(|owner| &owner.team),
                }),
            });
        }
    }
    let week = now.iso_week();
    let mut by_tier: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items {
        *by_tier.entry(item.tier.as_str()).or_default() += 1;
    }
    let breached = items
        .iter()
        .filter(|item| item.due.is_some_and(|due| due < today))
        .count();
    let counts: Vec<String> = by_tier.iter().map(|(tier, count)| format!("{count} {tier}")).collect();
    events.push(Event {
        kind: EventKind::Digest,
        key: format!("digest:{}-W{:02}", week.year(), week.week()),
        summary: format!(
            "Weekly digest: {} open item(s) ({}), {breached} past due",
            items.len(),
            if counts.is_empty() {
                "none".to_string()
            } else {
                counts.join(", ")
            }
        ),
        data: json!({ "open": items.len(), "by_tier": by_tier, "past_due": breached }),
    });
    events
}

fn owner_of(item: &WorkItem) -> &str {
    item.owner.as_ref().map_or("none", |owner| owner.team.as_str())
}

/// One notification channel.
pub trait Notifier {
    /// Returns the notifier's name in the configuration.
    fn name(&self) -> &str;

    /// Tells whether the notifier sends events of this kind.
    fn wants(&self, kind: EventKind) -> bool;

    /// Sends one event.
    fn send(&self, event: &Event, now: DateTime<Utc>) -> Result<(), TrackerError>;
}

/// A webhook or Slack notifier over HTTP.
pub struct HttpNotifier {
    config: NotifyConfig,
    url: String,
    /// The signing secret of a webhook.
    secret: Option<String>,
    client: Client,
}

// The URL of a Slack webhook and the secret never reach a log.
impl std::fmt::Debug for HttpNotifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "HttpNotifier {{ name: {:?}, kind: {:?} }}",
            self.config.name, self.config.kind
        )
    }
}

impl HttpNotifier {
    /// Builds a notifier. The URL and the secret come from the environment
    /// variables the configuration names (read through `env`), else from
    /// the files relative to `config_dir`.
    pub fn new(
        config: &NotifyConfig,
        config_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HttpNotifier, TrackerError> {
        let section = format!("tickets.notify {}", config.name);
        let (url, url_is_secret) = match &config.url {
            Some(url) => (url.clone(), false),
            None => (
                crate::secret::read_secret(
                    &config.name,
                    &section,
                    "url_file",
                    config.url_env.as_deref(),
                    config.url_file.as_ref(),
                    config_dir,
                    env,
                )?,
                true,
            ),
        };
        crate::forge::validate_url("notification URL", &url).map_err(|reason| TrackerError::Credentials {
            tracker: config.name.clone(),
            // A URL from `url_env` or `url_file` is a credential, such as a
            // Slack webhook URL, so the message leaves it out.
            reason: if url_is_secret {
                format!("the notification URL from [{section}] is invalid; it must be an absolute http or https URL")
            } else {
                reason
            },
        })?;
        let secret = match config.kind {
            NotifierKind::Webhook => Some(crate::secret::read_secret(
                &config.name,
                &section,
                "secret_file",
                config.secret_env.as_deref(),
                config.secret_file.as_ref(),
                config_dir,
                env,
            )?),
            NotifierKind::Slack => None,
        };
        let client = Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ctem/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| TrackerError::Credentials {
                tracker: config.name.clone(),
                reason: format!("cannot build the HTTP client: {error}"),
            })?;
        Ok(HttpNotifier {
            config: config.clone(),
            url,
            secret,
            client,
        })
    }

    /// Returns the notifier's target for messages: the URL of a webhook,
    /// only the host of a Slack webhook.
    fn target(&self) -> String {
        match self.config.kind {
            NotifierKind::Webhook => self.url.clone(),
            NotifierKind::Slack => reqwest::Url::parse(&self.url)
                .ok()
                .and_then(|url| url.host_str().map(|host| format!("Slack webhook on {host}")))
                .unwrap_or_else(|| "Slack webhook".to_string()),
        }
    }

    fn body(&self, event: &Event, now: DateTime<Utc>) -> String {
        match self.config.kind {
            NotifierKind::Webhook => json!({
                "event": event.kind.as_str(),
                "key": event.key,
                "sent_at": now.to_rfc3339(),
                "summary": event.summary,
                "data": event.data,
            })
            .to_string(),
            NotifierKind::Slack => json!({ "text": slack_escape(&event.summary) }).to_string(),
        }
    }
}

impl Notifier for HttpNotifier {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn wants(&self, kind: EventKind) -> bool {
        self.config.events.contains(&kind)
    }

    fn send(&self, event: &Event, now: DateTime<Utc>) -> Result<(), TrackerError> {
        let body = self.body(event, now);
        let target = self.target();
        let mut backoff = Duration::from_millis(self.config.backoff_ms);
        let mut last = String::new();
        for attempt in 1..=self.config.attempts {
            let mut request = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("X-Ctem-Event", event.kind.as_str())
                .header("X-Ctem-Delivery", &event.key);
            if let Some(secret) = &self.secret {
                let signature = hex::encode(hmac_sha256(secret.as_bytes(), body.as_bytes()));
                request = request.header("X-Ctem-Signature", format!("sha256={signature}"));
            }
            let wait = match request.body(body.clone()).send() {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
                    match status {
                        401 | 403 => return Err(TrackerError::Unauthorized { url: target, status }),
                        429 | 500..=599 => {
                            last = format!("HTTP {status}");
                            match retry_after {
                                Some(seconds) if seconds > self.config.max_retry_after_secs => {
                                    return Err(TrackerError::RateLimited {
                                        url: target,
                                        seconds,
                                        max: self.config.max_retry_after_secs,
                                    });
                                }
                                Some(seconds) => Duration::from_secs(seconds),
                                None => backoff,
                            }
                        }
                        _ => {
                            return Err(TrackerError::Status {
                                url: target,
                                status,
                                message: "the receiver rejected the notification".to_string(),
                            });
                        }
                    }
                }
                Err(error) => {
                    last = if error.is_timeout() {
                        "timed out".to_string()
                    } else {
                        "request failed".to_string()
                    };
                    backoff
                }
            };
            if attempt < self.config.attempts {
                tracing::warn!(notifier = %self.config.name, key = %event.key, attempt, reason = %last, "retrying a notification");
                std::thread::sleep(wait);
                backoff = backoff.saturating_mul(2);
            }
        }
        Err(TrackerError::Exhausted {
            url: target,
            attempts: self.config.attempts,
            last,
        })
    }
}

/// Escapes the three characters that Slack's `mrkdwn` treats as control
/// characters, so that `<!channel>` in a finding title mentions no one.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Computes HMAC-SHA256 (RFC 2104) with a 64-byte block.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|byte| byte ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|byte| byte ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Checks an `X-Ctem-Signature` header value against a body, in constant
/// time, as a receiver does.
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header
        .strip_prefix("sha256=")
        .and_then(|hex_text| hex::decode(hex_text).ok())
    else {
        return false;
    };
    let expected = hmac_sha256(secret, body);
    given.len() == expected.len() && given.iter().zip(expected).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The outcome of one notification pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyReport {
    /// `(notifier, event key)` of each notification sent.
    pub sent: Vec<(String, String)>,
    /// Events already sent by an earlier pass.
    pub skipped: usize,
    /// `(notifier, event key, error)` of each failed notification, sent
    /// again by the next pass.
    pub failed: Vec<(String, String, String)>,
}

/// Sends each event that a notifier wants and has not sent before.
///
/// # Errors
///
/// A store failure. A failed send is reported in
/// [`NotifyReport::failed`], its claim is released, and the pass goes on.
pub fn notify(
    store: &mut Store,
    notifiers: &[&dyn Notifier],
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<NotifyReport, StoreError> {
    let mut report = NotifyReport::default();
    for notifier in notifiers {
        let channel = format!("{CHANNEL_PREFIX}{}", notifier.name());
        for event in events.iter().filter(|event| notifier.wants(event.kind)) {
            let kind = match event.kind {
                EventKind::Immediate => SubjectKind::Finding,
                EventKind::SlaBreach | EventKind::Digest => SubjectKind::Action,
            };
            let marker = format!("ctem-{}", &hex::encode(Sha256::digest(&event.key))[..20]);
            match store.claim_ticket(&channel, kind, &event.key, &marker, now)? {
                Claim::Claimed => {}
                Claim::Exists(_) => {
                    report.skipped += 1;
                    continue;
                }
            }
            match notifier.send(event, now) {
                Ok(()) => {
                    let Some(mut record) = store.ticket(&channel, kind, &event.key)? else {
                        continue;
                    };
                    record.state = TicketState::Closed;
                    record.synced_at = Some(now);
                    store.save_ticket(&record)?;
                    report.sent.push((notifier.name().to_string(), event.key.clone()));
                }
                Err(error) => {
                    // NOTE: a send that reached the receiver but timed out
                    // is sent again by the next pass: delivery is at least
                    // once, and X-Ctem-Delivery lets a receiver drop the copy.
                    tracing::error!(notifier = notifier.name(), key = %event.key, %error, "notification failed");
                    store.forget_ticket(&channel, kind, &event.key)?;
                    report
                        .failed
                        .push((notifier.name().to_string(), event.key.clone(), error.to_string()));
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test cases 2 and 6 (a key longer than the block).
        let digest = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(digest),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let digest = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(
            hex::encode(digest),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signature_is_verified() {
        let header = format!("sha256={}", hex::encode(hmac_sha256(b"s3cret", b"{}")));
        assert!(verify_signature(b"s3cret", b"{}", &header));
        assert!(!verify_signature(b"other", b"{}", &header));
        assert!(!verify_signature(b"s3cret", b"{ }", &header));
        assert!(!verify_signature(b"s3cret", b"{}", "sha256=zz"));
        assert!(!verify_signature(b"s3cret", b"{}", "md5=00"));
    }

    #[test]
    fn slack_text_is_escaped() {
        assert_eq!(slack_escape("<!channel> & <@U1>"), "&lt;!channel&gt; &amp; &lt;@U1&gt;");
    }
}
