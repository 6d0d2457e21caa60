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

/// The events of one execution, shared by all its branches and readable while it runs: a clone is a
/// handle on the same events, so a caller that passes one to [`crate::Executor::run_with_history`] can
/// answer `GetExecutionHistory` for an execution that has not ended.
#[derive(Debug, Default, Clone)]
pub struct ExecutionHistory {
    events: Arc<Mutex<Vec<HistoryEvent>>>,
}

/// The id of the last event of one branch of execution (the `previousEventId` of the next).
pub(crate) type Cursor = u64;

impl ExecutionHistory {
    pub fn new() -> Self {
        Self::default()
    }

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

    /// The events recorded so far, in order.
    pub fn snapshot(&self) -> Vec<HistoryEvent> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// How many events were recorded so far.
    pub fn len(&self) -> usize {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// JSON text of a value, as history details carry inputs and outputs.
pub(crate) fn text(value: &Value) -> String {
    value.to_string()
}
