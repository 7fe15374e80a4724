//! The `[tickets]` table of `ctem.toml`: which tracker ticket sync writes
//! to, what a ticket contains and how hard ctem may push.
//!
//! ```toml
//! [tickets]
//! tracker = "jira"
//! per = "action"
//! min_tier = "P1"
//! max_create = 20
//!
//! [tickets.jira]
//! url = "https://acme.atlassian.net"
//! flavor = "cloud"
//! project = "SEC"
//! user_env = "JIRA_USER"
//! token_env = "JIRA_API_TOKEN"
//!
//! [tickets.jira.priorities]
//! P1 = "Highest"
//!
//! [tickets.jira.states]
//! done = "Done"
//! reopen = "To Do"
//! risk_accepted = ["Risk Accepted"]
//! ```
//!
//! Credentials never appear in the file: it names the environment
//! variables or the files that hold them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ctem_model::Tier;
use serde::Deserialize;

use crate::jira_fields::{JiraField, JiraFieldType};

/// The `[tickets]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsConfig {
    /// The tracker to sync with: `jira`, `github` or `gitlab`, configured
    /// in the table of that name (`[tickets.jira]` and so on).
    #[serde(default = "default_tracker")]
    pub tracker: String,
    /// One ticket per remediation action (`action`, the default) or per
    /// finding (`finding`).
    #[serde(default)]
    pub per: Granularity,
    /// The lowest tier that gets a ticket: an action gets one when its
    /// highest finding has this tier or a more urgent one. Default P1.
    #[serde(default = "default_min_tier")]
    pub min_tier: Tier,
    /// The maximum number of tickets one sync creates. The rest wait for
    /// the next sync. Default 20, a guard against flooding a project by mistake.
    #[serde(default = "default_max_create")]
    pub max_create: usize,
    /// Days a risk acceptance lasts when a ticket is closed as won't fix
    /// or moved to a risk accepted state. Default 90.
    #[serde(default = "default_accept_days")]
    pub accept_days: u32,
    /// Seconds after which a create that a sync claimed but never
    /// completed (it stopped between the tracker's reply and its own
    /// commit) is taken over by another sync. Default 600.
    #[serde(default = "default_claim_timeout")]
    pub claim_timeout_secs: u64,
    /// The Jira tracker.
    pub jira: Option<JiraConfig>,
    /// The GitHub Issues tracker.
    pub github: Option<crate::github::GitHubConfig>,
    /// The GitLab Issues tracker.
    pub gitlab: Option<crate::gitlab::GitLabConfig>,
    /// Webhook and Slack notifiers that a sync sends events to.
    #[serde(default)]
    pub notify: Vec<crate::notify::NotifyConfig>,
}

fn default_tracker() -> String {
    "jira".to_string()
}

fn default_min_tier() -> Tier {
    Tier::P1
}

fn default_max_create() -> usize {
    20
}

fn default_accept_days() -> u32 {
    90
}

fn default_claim_timeout() -> u64 {
    600
}

/// The subject of one ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    #[default]
    Action,
    Finding,
}

/// The Jira deployment, which sets the REST API version, the description
/// format and the authentication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JiraFlavor {
    /// Jira Cloud: REST API v3, descriptions in Atlassian Document Format,
    /// basic authentication with an e-mail address and an API token.
    #[default]
    Cloud,
    /// Jira Data Center or Server: REST API v2, wiki markup descriptions,
    /// a personal access token as bearer token.
    DataCenter,
}

/// The `[tickets.jira]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// The base URL, such as `https://acme.atlassian.net`.
    pub url: String,
    #[serde(default)]
    pub flavor: JiraFlavor,
    /// The project key, such as `SEC`.
    pub project: String,
    /// The issue type name. Default `Task`.
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    /// The environment variable with the user name (Cloud: the account's
    /// e-mail address). Not used by Data Center. Default `JIRA_USER`.
    #[serde(default = "default_user_env")]
    pub user_env: String,
    /// The environment variable with the API token (Cloud) or personal
    /// access token (Data Center). Default `JIRA_API_TOKEN`.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// A file with the token, read when the variable is unset. Relative to
    /// the folder of the configuration file.
    pub token_file: Option<PathBuf>,
    /// Labels added to every ticket, besides `ctem` and the marker.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Components set on every ticket.
    #[serde(default)]
    pub components: Vec<String>,
    /// Jira priority names by tier. A tier left out sets no priority.
    #[serde(default)]
    pub priorities: BTreeMap<Tier, String>,
    /// Workflow state names.
    #[serde(default)]
    pub states: JiraStates,
    /// Jira fields (such as `customfield_10050`) that receive ctem values,
    /// by value: `owner`, `contacts`, `tier`, `risk`, `subject` or `due`.
    /// An entry is a field id, or a table with `field` and `type` (see
    /// [`crate::jira_fields`]). `due` defaults to Jira's `duedate`.
    #[serde(default, deserialize_with = "crate::jira_fields::deserialize_fields")]
    pub fields: BTreeMap<String, JiraField>,
    /// Jira users by owning team, for fields of type `user`: the account id
    /// on Cloud, the user name on Data Center.
    #[serde(default)]
    pub users: BTreeMap<String, String>,
    /// Seconds a request may take before it is abandoned. Default 30.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts per request, counting the first. Default 4.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The longest `Retry-After` that ctem waits for, in seconds. A longer
    /// one fails the request. Default 120.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_secs: u64,
    /// The first backoff between attempts, in milliseconds; it doubles
    /// with each retry. Default 500.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
}

fn default_issue_type() -> String {
    "Task".to_string()
}

fn default_user_env() -> String {
    "JIRA_USER".to_string()
}

fn default_token_env() -> String {
    "JIRA_API_TOKEN".to_string()
}

fn default_timeout() -> u64 {
    30
}

fn default_attempts() -> u32 {
    4
}

fn default_max_retry_after() -> u64 {
    120
}

fn default_backoff() -> u64 {
    500
}

/// Workflow state names of the Jira project.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JiraStates {
    /// The state a verified fix moves the ticket to. Default `Done`.
    pub done: String,
    /// The state a reopened finding moves the ticket back to. Default
    /// `To Do`.
    pub reopen: String,
    /// States that mean the risk was accepted. A ticket moved to one
    /// becomes a risk acceptance of its findings.
    pub risk_accepted: Vec<String>,
    /// Resolutions that mean "won't fix": a ticket closed with one becomes
    /// a risk acceptance too. Default `Won't Do` and `Won't Fix`.
    pub wont_fix: Vec<String>,
}

impl Default for JiraStates {
    fn default() -> Self {
        JiraStates {
            done: "Done".to_string(),
            reopen: "To Do".to_string(),
            risk_accepted: Vec::new(),
            wont_fix: vec!["Won't Do".to_string(), "Won't Fix".to_string()],
        }
    }
}

/// The trackers ticket sync can write to.
pub const TRACKERS: [&str; 3] = ["jira", "github", "gitlab"];

impl TicketsConfig {
    /// Checks the values serde cannot. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !TRACKERS.contains(&self.tracker.as_str()) {
            return Err(format!(
                "tickets.tracker: unknown tracker {:?}; expected one of {}",
                self.tracker,
                TRACKERS.join(", ")
            ));
        }
        if self.max_create == 0 {
            return Err("tickets.max_create: must be at least 1".to_string());
        }
        if self.accept_days == 0 {
            return Err("tickets.accept_days: must be at least 1".to_string());
        }
        for (index, notifier) in self.notify.iter().enumerate() {
            notifier.validate(index)?;
            if self.notify[..index].iter().any(|other| other.name == notifier.name) {
                return Err(format!(
                    "tickets.notify[{index}].name: duplicate name {:?}",
                    notifier.name
                ));
            }
        }
        match self.tracker.as_str() {
            "github" => self
                .github
                .as_ref()
                .ok_or("tickets.github: missing; tracker \"github\" needs a [tickets.github] table with repository")?
                .validate(),
            "gitlab" => self
                .gitlab
                .as_ref()
                .ok_or("tickets.gitlab: missing; tracker \"gitlab\" needs a [tickets.gitlab] table with project")?
                .validate(),
            _ => self
                .jira
                .as_ref()
                .ok_or("tickets.jira: missing; tracker \"jira\" needs a [tickets.jira] table with url and project")?
                .validate(),
        }
    }
}

impl JiraConfig {
    fn validate(&self) -> Result<(), String> {
        crate::forge::validate_url("tickets.jira.url", &self.url)?;
        if self.project.trim().is_empty() {
            return Err("tickets.jira.project: must not be empty".to_string());
        }
        for (name, value) in [("user_env", &self.user_env), ("token_env", &self.token_env)] {
            if value.trim().is_empty() {
                return Err(format!("tickets.jira.{name}: must not be empty"));
            }
        }
        if let Some(label) = self.labels.iter().find(|label| label.is_empty() || label.contains(' ')) {
            return Err(format!(
                "tickets.jira.labels: invalid label {label:?}; Jira labels are non-empty and have no spaces"
            ));
        }
        let user_field = self.fields.iter().find(|(_, field)| field.kind == JiraFieldType::User);
        if let Some((value, field)) = user_field
            && self.users.is_empty()
        {
            return Err(format!(
                "tickets.jira.fields.{value}: the user field {} needs [tickets.jira.users], which maps owning teams to Jira users",
                field.field
            ));
        }
        if let Some((team, user)) = self.users.iter().find(|(_, user)| user.trim().is_empty()) {
            return Err(format!(
                "tickets.jira.users.{team}: invalid user {user:?}; expected an account id (Cloud) or a user name (Data Center)"
            ));
        }
        if self.timeout_secs == 0 {
            return Err("tickets.jira.timeout_secs: must be at least 1".to_string());
        }
        if self.attempts == 0 {
            return Err("tickets.jira.attempts: must be at least 1".to_string());
        }
        Ok(())
    }

    /// Returns the request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TicketsConfig, String> {
        let config: TicketsConfig = toml::from_str(text).map_err(|error| error.to_string())?;
        config.validate()?;
        Ok(config)
    }

    const JIRA: &str = "[jira]\nurl = \"https://acme.atlassian.net\"\nproject = \"SEC\"\n";

    #[test]
    fn defaults_apply() {
        let config = parse(JIRA).unwrap();
        assert_eq!(config.per, Granularity::Action);
        assert_eq!(config.min_tier, Tier::P1);
        assert_eq!(config.max_create, 20);
        let jira = config.jira.unwrap();
        assert_eq!(jira.flavor, JiraFlavor::Cloud);
        assert_eq!(jira.token_env, "JIRA_API_TOKEN");
        assert_eq!(jira.states.done, "Done");
        assert_eq!(jira.timeout(), Duration::from_secs(30));
    }

    #[test]
    fn invalid_values_are_named() {
        let cases = [
            (
                "tracker = \"redmine\"\n",
                "tickets.tracker: unknown tracker \"redmine\"",
            ),
            ("tracker = \"github\"\n", "tickets.github: missing"),
            ("tracker = \"gitlab\"\n", "tickets.gitlab: missing"),
            (
                "tracker = \"github\"\n[github]\nrepository = \"acme\"\n",
                "tickets.github.repository: invalid repository \"acme\"",
            ),
            (
                "tracker = \"github\"\n[github]\nrepository = \"acme/../x\"\n",
                "tickets.github.repository: invalid repository",
            ),
            (
                "tracker = \"github\"\n[github]\nrepository = \"acme/api\"\ntoken = \"x\"\n",
                "unknown field `token`",
            ),
            (
                "tracker = \"github\"\n[github]\nrepository = \"acme/api\"\napi_url = \"file:///etc\"\n",
                "tickets.github.api_url: unsupported scheme \"file\"",
            ),
            (
                "tracker = \"github\"\n[github]\nrepository = \"acme/api\"\nlabels = [\"a,b\"]\n",
                "invalid label \"a,b\"",
            ),
            (
                "tracker = \"gitlab\"\n[gitlab]\nproject = \"/acme\"\n",
                "tickets.gitlab.project: invalid project",
            ),
            (
                "tracker = \"gitlab\"\n[gitlab]\nproject = \"acme/api\"\nattempts = 0\n",
                "tickets.gitlab.attempts",
            ),
            (
                "[[notify]]\nname = \"chat\"\nkind = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/X\"\n",
                "tickets.notify[0].url: a Slack webhook URL is a credential",
            ),
            (
                "[[notify]]\nname = \"soc\"\nkind = \"webhook\"\nurl = \"https://soc.example/hook\"\n",
                "tickets.notify[0].secret_env: missing",
            ),
            (
                "[[notify]]\nname = \"soc\"\nkind = \"webhook\"\nsecret_env = \"S\"\n",
                "set exactly one of url, url_env and url_file",
            ),
            (
                "[[notify]]\nname = \"soc\"\nkind = \"pager\"\nurl_env = \"U\"\n",
                "unknown variant `pager`",
            ),
            (
                "[[notify]]\nname = \"a\"\nkind = \"slack\"\nurl_env = \"U\"\n[[notify]]\nname = \"a\"\nkind = \"slack\"\nurl_env = \"V\"\n",
                "tickets.notify[1].name: duplicate name \"a\"",
            ),
            (
                "[[notify]]\nname = \"a\"\nkind = \"slack\"\nurl_env = \"U\"\nevents = []\n",
                "tickets.notify[0].events: must not be empty",
            ),
            ("max_create = 0\n", "tickets.max_create"),
            ("accept_days = 0\n", "tickets.accept_days"),
            ("per = \"asset\"\n", "unknown variant `asset`"),
            ("min_tier = \"P9\"\n", "unknown variant `P9`"),
            ("max_creat = 3\n", "unknown field `max_creat`"),
            (
                "[jira]\nurl = \"ftp://jira\"\nproject = \"SEC\"\n",
                "unsupported scheme \"ftp\"",
            ),
            (
                "[jira]\nurl = \"not a url\"\nproject = \"SEC\"\n",
                "tickets.jira.url: invalid URL",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \" \"\n",
                "tickets.jira.project",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\nlabels = [\"a b\"]\n",
                "invalid label \"a b\"",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\nattempts = 0\n",
                "tickets.jira.attempts",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\ntoken = \"x\"\n",
                "unknown field `token`",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\n[jira.fields]\nteam = \"customfield_1\"\n",
                "unknown value \"team\"",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\n[jira.priorities]\nP5 = \"Low\"\n",
                "unknown variant `P5`",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\n[jira.fields]\nowner = { field = \"customfield_1\", type = \"radio\" }\n",
                "tickets.jira.fields.owner.type: unknown type \"radio\"",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\n[jira.fields]\nowner = { field = \"customfield_1\", type = \"user\" }\n",
                "tickets.jira.fields.owner: the user field customfield_1 needs [tickets.jira.users]",
            ),
            (
                "[jira]\nurl = \"https://jira\"\nproject = \"SEC\"\n[jira.users]\nweb-team = \"\"\n",
                "tickets.jira.users.web-team: invalid user \"\"",
            ),
            ("", "tickets.jira: missing"),
        ];
        for (text, expected) in cases {
            let text = if text.starts_with("[jira]") || text.is_empty() {
                text.to_string()
            } else {
                format!("{text}{JIRA}")
            };
            let error = parse(&text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }
}
