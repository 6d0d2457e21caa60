//! The execution history, shaped like `GetExecutionHistory`: ordered events with ids, the id of the
//! event that preceded each one in its branch, timestamps and details named `<camelCaseType>EventDetails`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One event of an execution's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub timestamp: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub id: u64,
    pub previous_event_id: u64,
    /// `{"<detailsKey>": {...}}`, e.g. `{"stateEnteredEventDetails": {"name": "A", "input": "{}"}}`.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl HistoryEvent {
    /// The details object, whatever its key.
    pub fn detail(&self) -> Option<&Value> {
        self.details.values().next()
    }
    /// A field of the details object as text (`name`, `error`, `cause`, `output`...).
    pub fn detail_str(&self, field: &str) -> Option<&str> {
        self.detail()?.get(field)?.as_str()
    }
}

/// The events of one execution, shared by all its branches.
#[derive(Debug, Default, Clone)]
pub(crate) struct History {
    events: Arc<Mutex<Vec<HistoryEvent>>>,
}

/// The id of the last event of one branch of execution (the `previousEventId` of the next).
pub(crate) type Cursor = u64;

impl History {
    pub(crate) fn record(
        &self,
        cursor: &mut Cursor,
        at: DateTime<Utc>,
        event_type: &str,
        details: Option<(&str, Value)>,
    ) -> u64 {
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let id = events.len() as u64 + 1;
        let mut map = Map::new();
        if let Some((key, value)) = details {
            map.insert(key.to_string(), value);
        }
        events.push(HistoryEvent {
            timestamp: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            event_type: event_type.to_string(),
            id,
            previous_event_id: *cursor,
            details: map,
        });
        *cursor = id;
        id
    }

    pub(crate) fn snapshot(&self) -> Vec<HistoryEvent> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// JSON text of a value, as history details carry inputs and outputs.
pub(crate) fn text(value: &Value) -> String {
    value.to_string()
}
