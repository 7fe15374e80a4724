//! Jira fields that receive ctem values (`[tickets.jira.fields]`), and the
//! JSON shape each field type takes in a create or an update.
//!
//! ```toml
//! [tickets.jira.fields]
//! subject = "customfield_10040"                                # text
//! owner = { field = "customfield_10050", type = "select" }
//! contacts = { field = "customfield_10051", type = "multi_select" }
//!
//! [tickets.jira.users]          # for fields of type "user"
//! web-team = "5b10ac8d82e05b22cc7d4ef5"
//! ```
//!
//! | type | JSON sent | ctem values |
//! | --- | --- | --- |
//! | `text` | `"web-team"` (several values joined with `, `) | all |
//! | `number` | `190.5` | `risk` |
//! | `date` | `"2026-11-08"` | `due` |
//! | `select` | `{"value": "web-team"}` | `owner`, `tier`, `subject` |
//! | `multi_select` | `[{"value": "a"}, {"value": "b"}]` | `owner`, `contacts`, `tier`, `subject` |
//! | `labels` | `["a", "b"]`, spaces replaced by `-` | `owner`, `contacts`, `tier`, `subject` |
//! | `user` | Cloud `{"accountId": "..."}`, Data Center `{"name": "..."}` | `owner`, through `[tickets.jira.users]` |
//!
//! A field given as a plain string keeps the type it always had: `risk`
//! is a number, `due` a date and the others text.
//!
//! Reference: the custom field examples of "Jira REST API examples",
//! <https://developer.atlassian.com/display/JIRADEV/JIRA+REST+API+examples>.
//! Jira Cloud takes the same shapes in REST API v3, except that a user is
//! named by `accountId`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Value, json};

use crate::config::JiraFlavor;
use crate::tracker::TicketDraft;

/// The ctem values that `[tickets.jira.fields]` maps.
pub const FIELD_VALUES: [&str; 6] = ["owner", "contacts", "tier", "risk", "subject", "due"];

/// Jira fields that ctem sets itself, so that no ctem value may replace them.
const RESERVED_FIELDS: [&str; 7] = [
    "project",
    "issuetype",
    "summary",
    "description",
    "labels",
    "priority",
    "components",
];

/// The type of a Jira field, which decides the JSON shape of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JiraFieldType {
    Text,
    Number,
    Date,
    Select,
    MultiSelect,
    Labels,
    /// A single user picker.
    User,
}

impl JiraFieldType {
    /// Every type with its name in the configuration.
    pub const ALL: [(JiraFieldType, &'static str); 7] = [
        (JiraFieldType::Text, "text"),
        (JiraFieldType::Number, "number"),
        (JiraFieldType::Date, "date"),
        (JiraFieldType::Select, "select"),
        (JiraFieldType::MultiSelect, "multi_select"),
        (JiraFieldType::Labels, "labels"),
        (JiraFieldType::User, "user"),
    ];

    /// Returns the name in the configuration, such as `multi_select`.
    pub fn as_str(self) -> &'static str {
        JiraFieldType::ALL
            .iter()
            .find(|(kind, _)| *kind == self)
            .map_or("text", |(_, name)| name)
    }

    fn parse(name: &str) -> Option<JiraFieldType> {
        JiraFieldType::ALL
            .iter()
            .find(|(_, known)| *known == name)
            .map(|(kind, _)| *kind)
    }

    /// Returns the type of a field given as a plain string, which is the
    /// shape ctem sent before fields had types.
    fn default_for(value: &str) -> JiraFieldType {
        match value {
            "risk" => JiraFieldType::Number,
            "due" => JiraFieldType::Date,
            _ => JiraFieldType::Text,
        }
    }

    /// Lists the types that can hold a ctem value.
    fn fitting(value: &str) -> &'static [JiraFieldType] {
        use JiraFieldType::*;
        match value {
            "owner" => &[Text, Select, MultiSelect, Labels, User],
            "contacts" => &[Text, MultiSelect, Labels],
            "tier" | "subject" => &[Text, Select, MultiSelect, Labels],
            "risk" => &[Number, Text],
            "due" => &[Date, Text],
            _ => &[],
        }
    }
}

impl fmt::Display for JiraFieldType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One entry of `[tickets.jira.fields]`: the Jira field id and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraField {
    /// The field id, such as `customfield_10050` or `duedate`.
    pub field: String,
    pub kind: JiraFieldType,
}

/// An entry as written: a field id, or a table with `field` and `type`.
struct RawField {
    field: String,
    kind: Option<String>,
}

impl<'de> Deserialize<'de> for RawField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawField, D::Error> {
        struct RawVisitor;

        impl<'de> Visitor<'de> for RawVisitor {
            type Value = RawField;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a Jira field id, or a table with `field` and `type`")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawField, E> {
                Ok(RawField {
                    field: text.to_string(),
                    kind: None,
                })
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawField, M::Error> {
                let mut field = None;
                let mut kind = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "field" => field = Some(map.next_value::<String>()?),
                        "type" => kind = Some(map.next_value::<String>()?),
                        other => return Err(de::Error::unknown_field(other, &["field", "type"])),
                    }
                }
                let field = field.ok_or_else(|| de::Error::missing_field("field"))?;
                Ok(RawField { field, kind })
            }
        }

        deserializer.deserialize_any(RawVisitor)
    }
}

/// Reads `[tickets.jira.fields]`, checking each value name, field id and
/// type. An error names the entry, such as `tickets.jira.fields.owner`.
pub fn deserialize_fields<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, JiraField>, D::Error> {
    let raw = BTreeMap::<String, RawField>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(value, raw)| {
            let field = check_field(&value, raw).map_err(de::Error::custom)?;
            Ok((value, field))
        })
        .collect()
}

fn check_field(value: &str, raw: RawField) -> Result<JiraField, String> {
    let place = format!("tickets.jira.fields.{value}");
    if !FIELD_VALUES.contains(&value) {
        return Err(format!(
            "tickets.jira.fields: unknown value {value:?}; expected one of {}",
            FIELD_VALUES.join(", ")
        ));
    }
    let field = raw.field.trim();
    if field.is_empty() || field.contains(char::is_whitespace) {
        return Err(format!(
            "{place}: invalid field id {:?}; expected an id such as customfield_10050",
            raw.field
        ));
    }
    if RESERVED_FIELDS.contains(&field) {
        return Err(format!(
            "{place}: ctem sets the field {field:?} itself; map the value to another field"
        ));
    }

    let kind = match raw.kind.as_deref() {
        None => JiraFieldType::default_for(value),
        Some(name) => JiraFieldType::parse(name).ok_or_else(|| {
            let names: Vec<&str> = JiraFieldType::ALL.iter().map(|(_, name)| *name).collect();
            format!(
                "{place}.type: unknown type {name:?}; expected one of {}",
                names.join(", ")
            )
        })?,
    };
    let fitting = JiraFieldType::fitting(value);
    if !fitting.contains(&kind) {
        let names: Vec<&str> = fitting.iter().map(|kind| kind.as_str()).collect();
        return Err(format!(
            "{place}.type: a {kind} field cannot hold {value}; expected one of {}",
            names.join(", ")
        ));
    }
    Ok(JiraField {
        field: field.to_string(),
        kind,
    })
}

/// Returns the JSON value of a field for a draft, or `None` when the draft
/// has no such value (no owner, no contacts, no due date, or an owner
/// without a user in `users`).
pub fn field_value(
    value: &str,
    field: &JiraField,
    draft: &TicketDraft,
    flavor: JiraFlavor,
    users: &BTreeMap<String, String>,
) -> Option<Value> {
    let texts: Vec<String> = match value {
        "owner" => draft.owner.iter().cloned().collect(),
        "contacts" => draft.contacts.clone(),
        "tier" => vec![draft.tier.as_str().to_string()],
        "subject" => vec![draft.subject.clone()],
        "risk" => vec![format!("{:.1}", draft.risk)],
        "due" => draft.due.iter().map(|due| due.format("%Y-%m-%d").to_string()).collect(),
        _ => Vec::new(),
    };
    if texts.is_empty() {
        return None;
    }

    let shaped = match field.kind {
        JiraFieldType::Text => json!(texts.join(", ")),
        JiraFieldType::Number => json!((draft.risk * 10.0).round() / 10.0),
        JiraFieldType::Date => json!(texts[0]),
        JiraFieldType::Select => json!({ "value": texts[0] }),
        JiraFieldType::MultiSelect => {
            let options: Vec<Value> = texts.iter().map(|text| json!({ "value": text })).collect();
            Value::Array(options)
        }
        JiraFieldType::Labels => {
            let labels: Vec<String> = texts
                .iter()
                .map(|text| text.split_whitespace().collect::<Vec<_>>().join("-"))
                .collect();
            json!(labels)
        }
        JiraFieldType::User => {
            let user = users.get(&texts[0])?;
            match flavor {
                JiraFlavor::Cloud => json!({ "accountId": user }),
                JiraFlavor::DataCenter => json!({ "name": user }),
            }
        }
    };
    Some(shaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Table {
        #[serde(deserialize_with = "deserialize_fields")]
        fields: BTreeMap<String, JiraField>,
    }

    fn parse(text: &str) -> Result<BTreeMap<String, JiraField>, String> {
        toml::from_str::<Table>(&format!("[fields]\n{text}"))
            .map(|table| table.fields)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn plain_and_typed_entries_parse() {
        let fields = parse(
            "owner = { field = \"customfield_10050\", type = \"select\" }\nsubject = \"customfield_1\"\nrisk = \"customfield_2\"\n",
        )
        .unwrap();
        assert_eq!(fields["owner"].field, "customfield_10050");
        assert_eq!(fields["owner"].kind, JiraFieldType::Select);
        assert_eq!(fields["subject"].kind, JiraFieldType::Text);
        assert_eq!(fields["risk"].kind, JiraFieldType::Number);
    }

    #[test]
    fn table_without_type_keeps_default() {
        let fields = parse("due = { field = \"customfield_3\" }\n").unwrap();
        assert_eq!(fields["due"].kind, JiraFieldType::Date);
    }

    #[test]
    fn invalid_entries_are_named() {
        let cases = [
            (
                "owner = { field = \"customfield_1\", type = \"radio\" }",
                "tickets.jira.fields.owner.type: unknown type \"radio\"; expected one of text, number, date",
            ),
            (
                "contacts = { field = \"customfield_1\", type = \"user\" }",
                "tickets.jira.fields.contacts.type: a user field cannot hold contacts; expected one of text, multi_select, labels",
            ),
            (
                "risk = { field = \"customfield_1\", type = \"select\" }",
                "tickets.jira.fields.risk.type: a select field cannot hold risk",
            ),
            (
                "owner = { field = \"customfield_1\", typ = \"select\" }",
                "unknown field `typ`, expected `field` or `type`",
            ),
            ("owner = { type = \"select\" }", "missing field `field`"),
            (
                "owner = 7",
                "expected a Jira field id, or a table with `field` and `type`",
            ),
            ("owner = \" \"", "tickets.jira.fields.owner: invalid field id"),
            ("owner = \"labels\"", "ctem sets the field \"labels\" itself"),
            ("team = \"customfield_1\"", "unknown value \"team\""),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }
}
