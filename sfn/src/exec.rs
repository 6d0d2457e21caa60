//! The interpreter: runs a [`StateMachine`] on an input.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use crate::choice;
use crate::clock::{Clock, IdleGuard, SystemClock, WorkerGuard};
use crate::definition::StateMachine;
use crate::error::{StatesError, error_equals_matches, names};
use crate::expr::{apply_template, evaluate_dynamic};
use crate::history::{Cursor, ExecutionHistory, HistoryEvent, text};
use crate::task::{ResourceKind, TaskContext, TaskHandler, TaskInvocation, classify_resource};

/// Whether `failures` failed iterations out of `total` exceed what the Map tolerates: with both limits
/// set, the Map fails only when both are exceeded.
fn over_threshold(
    failures: u64,
    total: usize,
    count: Option<u64>,
    percentage: Option<f64>,
) -> bool {
    let over_count = count.is_some_and(|limit| failures > limit);
    let over_percentage =
        percentage.is_some_and(|limit| (failures as f64) * 100.0 / (total.max(1) as f64) > limit);
    match (count, percentage) {
        (Some(_), Some(_)) => over_count && over_percentage,
        _ => over_count || over_percentage,
    }
}

/// Iterations an inline Map runs at once when its MaxConcurrency is 0 (unbounded): AWS runs inline Map
/// iterations up to about 40 at a time, so do we.
pub const UNBOUNDED_MAP_CONCURRENCY: usize = 40;

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Succeeded,
    Failed,
    TimedOut,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
        }
    }
}

/// Who and where an execution runs as (what `$$.Execution` and `$$.StateMachine` show).
#[derive(Debug, Clone)]
pub struct ExecutionOptions {
    /// Execution name; unique per state machine in AWS. Default: a UUID.
    pub name: Option<String>,
    pub state_machine_name: String,
    pub region: String,
    pub account_id: String,
    /// Default: `arn:aws:iam::<account>:role/<state machine name>-role`.
    pub role_arn: Option<String>,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            name: None,
            state_machine_name: "state-machine".to_string(),
            region: "us-east-1".to_string(),
            account_id: "123456789012".to_string(),
            role_arn: None,
        }
    }
}

impl ExecutionOptions {
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    pub fn state_machine_arn(&self) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            self.region, self.account_id, self.state_machine_name
        )
    }
}

/// What an execution gives back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionResult {
    pub execution_arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    pub start_date: String,
    pub stop_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// States entered plus retry attempts (what Standard workflows are billed on).
    pub state_transitions: u64,
    pub history: Vec<HistoryEvent>,
}

/// Runs state machines, calling `handler` for Task states and waiting on `clock`.
#[derive(Clone)]
pub struct Executor {
    handler: Arc<dyn TaskHandler>,
    clock: Arc<dyn Clock>,
}

impl Executor {
    /// An executor on the system clock.
    pub fn new(handler: Arc<dyn TaskHandler>) -> Self {
        Executor {
            handler,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same executor on another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Run one execution to its end. Must be called inside a tokio runtime.
    pub async fn run(
        &self,
        machine: &StateMachine,
        input: Value,
        options: ExecutionOptions,
    ) -> ExecutionResult {
        self.run_with_history(machine, input, options, ExecutionHistory::new())
            .await
    }

    /// [`Executor::run`], recording into `history`, which the caller may read while the execution runs.
    /// `history` should be new: events already in it would be taken as this execution's.
    pub async fn run_with_history(
        &self,
        machine: &StateMachine,
        input: Value,
        options: ExecutionOptions,
        history: ExecutionHistory,
    ) -> ExecutionResult {
        let name = options
            .name
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let execution_arn = format!(
            "arn:aws:states:{}:{}:execution:{}:{}",
            options.region, options.account_id, options.state_machine_name, name
        );
        let role_arn = options.role_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:iam::{}:role/{}-role",
                options.account_id, options.state_machine_name
            )
        });
        let started = self.clock.now();
        let start_time = timestamp(started);
        let shared = Arc::new(Shared {
            handler: self.handler.clone(),
            clock: self.clock.clone(),
            history,
            transitions: AtomicU64::new(0),
            execution_arn: execution_arn.clone(),
            execution_name: name.clone(),
            execution_input: input.clone(),
            context_base: json!({
                "Execution": {
                    "Id": execution_arn,
                    "Name": name,
                    "RoleArn": role_arn,
                    "StartTime": start_time,
                },
                "StateMachine": {
                    "Id": options.state_machine_arn(),
                    "Name": options.state_machine_name,
                },
            }),
        });
        let _worker = WorkerGuard::new(self.clock.clone());
        let mut cursor: Cursor = 0;
        shared.history.record(
            &mut cursor,
            started,
            "ExecutionStarted",
            Some((
                "executionStartedEventDetails",
                json!({"input": text(&input), "inputDetails": {"truncated": false}, "roleArn": role_arn}),
            )),
        );
        let root = machine.root.clone();
        let timeout = root.get("TimeoutSeconds").and_then(Value::as_u64);
        let run = async {
            run_machine(
                shared.clone(),
                root,
                input,
                Frame {
                    cursor,
                    map_item: None,
                },
            )
            .await
            .0
        };
        let outcome = match timeout {
            Some(seconds) => {
                let timer = self.clock.timer(Duration::from_secs(seconds));
                tokio::select! {
                    outcome = run => Some(outcome),
                    _ = timer => None,
                }
            }
            None => Some(run.await),
        };
        let ended = self.clock.now();
        // Event ids count from 1 without gaps: the last one is the number of events.
        let mut cursor = shared.history.len() as Cursor;
        let (status, output, error) = match outcome {
            Some(Ok(output)) => {
                shared.history.record(
                    &mut cursor,
                    ended,
                    "ExecutionSucceeded",
                    Some((
                        "executionSucceededEventDetails",
                        json!({"output": text(&output), "outputDetails": {"truncated": false}}),
                    )),
                );
                (ExecutionStatus::Succeeded, Some(output), None)
            }
            Some(Err(failure)) => {
                shared.history.record(
                    &mut cursor,
                    ended,
                    "ExecutionFailed",
                    Some((
                        "executionFailedEventDetails",
                        json!({"error": failure.error, "cause": failure.cause}),
                    )),
                );
                (ExecutionStatus::Failed, None, Some(failure))
            }
            None => {
                let failure = StatesError::timeout(format!(
                    "The execution ran longer than its TimeoutSeconds ({}s)",
                    timeout.unwrap_or(0)
                ));
                shared.history.record(
                    &mut cursor,
                    ended,
                    "ExecutionTimedOut",
                    Some((
                        "executionTimedOutEventDetails",
                        json!({"error": failure.error, "cause": failure.cause}),
                    )),
                );
                (ExecutionStatus::TimedOut, None, Some(failure))
            }
        };
        ExecutionResult {
            execution_arn,
            name,
            status,
            start_date: start_time,
            stop_date: timestamp(ended),
            output,
            error: error.as_ref().map(|e| e.error.clone()),
            cause: error.map(|e| e.cause),
            state_transitions: shared.transitions.load(Ordering::Relaxed),
            history: shared.history.snapshot(),
        }
    }
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

struct Shared {
    handler: Arc<dyn TaskHandler>,
    clock: Arc<dyn Clock>,
    history: ExecutionHistory,
    transitions: AtomicU64,
    execution_arn: String,
    execution_name: String,
    /// `$$` without `Execution.Input`, which is added only for states that read it: copying a large
    /// input into every state's context would make a Map's cost grow with the square of its input.
    context_base: Value,
    execution_input: Value,
}

impl Shared {
    fn record(&self, cursor: &mut Cursor, event_type: &str, details: Option<(&str, Value)>) -> u64 {
        self.history
            .record(cursor, self.clock.now(), event_type, details)
    }
}

/// Where a branch of execution is: its last history event and the Map item it works on.
#[derive(Clone)]
struct Frame {
    cursor: Cursor,
    map_item: Option<(usize, Value)>,
}

/// Run a state machine or branch (`{"StartAt", "States"}`) to its end; gives back the cursor of its
/// last event too, so what follows the branch in the history links to it.
fn run_machine(
    shared: Arc<Shared>,
    machine: Arc<Value>,
    input: Value,
    mut frame: Frame,
) -> BoxFuture<'static, (Result<Value, StatesError>, Cursor)> {
    Box::pin(async move {
        let Some(states) = machine.get("States").and_then(Value::as_object) else {
            return (
                Err(StatesError::runtime("the machine has no States")),
                frame.cursor,
            );
        };
        let Some(start_at) = str_field(&machine, "StartAt") else {
            return (
                Err(StatesError::runtime("the machine has no StartAt")),
                frame.cursor,
            );
        };
        let mut current = start_at.to_string();
        let mut input = input;
        loop {
            let Some(state) = states.get(&current) else {
                return (
                    Err(StatesError::runtime(format!("no state named '{current}'"))),
                    frame.cursor,
                );
            };
            match run_state(&shared, &current, state, input, &mut frame).await {
                Ok(Step::Next(next, output)) => {
                    current = next;
                    input = output;
                }
                Ok(Step::End(output)) => return (Ok(output), frame.cursor),
                Err(error) => return (Err(error), frame.cursor),
            }
        }
    })
}

enum Step {
    Next(String, Value),
    End(Value),
}

fn state_prefix(kind: &str) -> &str {
    kind
}

/// Whether a state (or anything nested in it) may read `$$.Execution.Input`.
fn reads_execution_input(state: &Value) -> bool {
    match state {
        Value::String(text) => {
            text.contains("$$.Execution.Input")
                || text.contains("$$['Execution']")
                || text.contains("$$[\"Execution\"]")
                || text
                    .split(|c: char| c == ',' || c == '(' || c == ')' || c.is_whitespace())
                    .any(|word| word == "$$" || word == "$$.Execution")
        }
        Value::Array(items) => items.iter().any(reads_execution_input),
        Value::Object(fields) => fields.values().any(reads_execution_input),
        _ => false,
    }
}

fn context_for(
    shared: &Shared,
    state: &Value,
    name: &str,
    entered: &str,
    retry_count: u32,
    frame: &Frame,
    token: Option<&str>,
) -> Value {
    let mut context = shared.context_base.clone();
    if reads_execution_input(state)
        && let Some(execution) = context.get_mut("Execution").and_then(Value::as_object_mut)
    {
        execution.insert("Input".into(), shared.execution_input.clone());
    }
    if let Value::Object(map) = &mut context {
        map.insert(
            "State".into(),
            json!({"Name": name, "EnteredTime": entered, "RetryCount": retry_count}),
        );
        if let Some((index, value)) = &frame.map_item {
            map.insert(
                "Map".into(),
                json!({"Item": {"Index": index, "Value": value}}),
            );
        }
        if let Some(token) = token {
            map.insert("Task".into(), json!({"Token": token}));
        }
    }
    context
}

fn str_field<'a>(state: &'a Value, field: &str) -> Option<&'a str> {
    state.get(field).and_then(Value::as_str)
}

/// InputPath / OutputPath: absent → `$`, `null` → `{}`, else the path's value (States.Runtime if none).
fn apply_filter_path(
    state: &Value,
    field: &str,
    value: &Value,
    context: &Value,
) -> Result<Value, StatesError> {
    match state.get(field) {
        None => Ok(value.clone()),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(path)) => {
            let parsed = jsonpath::JsonPath::parse(path)
                .map_err(|e| StatesError::runtime(format!("Invalid {field} '{path}': {e}")))?;
            parsed.resolve(value, Some(context)).map_err(|_| {
                StatesError::runtime(format!(
                    "Invalid path '{path}' : The {field} '{path}' could not be found in the input '{value}'"
                ))
            })
        }
        Some(other) => Err(StatesError::runtime(format!(
            "{field} must be a string or null, got {other}"
        ))),
    }
}

/// ResultPath: absent → the result, `null` → the raw input, else the result placed into the raw input.
fn apply_result_path(
    result_path: Option<&Value>,
    raw_input: &Value,
    result: Value,
) -> Result<Value, StatesError> {
    match result_path {
        None => Ok(result),
        Some(Value::Null) => Ok(raw_input.clone()),
        Some(Value::String(path)) => {
            let parsed = jsonpath::ReferencePath::parse(path).map_err(|e| {
                StatesError::new(
                    names::RESULT_PATH_MATCH_FAILURE,
                    format!("Invalid ResultPath '{path}': {e}"),
                )
            })?;
            let mut combined = raw_input.clone();
            parsed.set(&mut combined, result).map_err(|e| {
                StatesError::new(
                    names::RESULT_PATH_MATCH_FAILURE,
                    format!("Unable to apply ResultPath '{path}' to input '{raw_input}': {e}"),
                )
            })?;
            Ok(combined)
        }
        Some(other) => Err(StatesError::runtime(format!(
            "ResultPath must be a string or null, got {other}"
        ))),
    }
}

fn next_step(state: &Value, output: Value) -> Step {
    match str_field(state, "Next") {
        Some(next) => Step::Next(next.to_string(), output),
        None => Step::End(output),
    }
}

/// Run one state, with its Retry and Catch.
async fn run_state(
    shared: &Arc<Shared>,
    name: &str,
    state: &Value,
    raw_input: Value,
    frame: &mut Frame,
) -> Result<Step, StatesError> {
    let kind = str_field(state, "Type").unwrap_or("Pass").to_string();
    shared.transitions.fetch_add(1, Ordering::Relaxed);
    let entered_at = shared.clock.now();
    let entered = timestamp(entered_at);
    let prefix = state_prefix(&kind);
    shared.record(
        &mut frame.cursor,
        &format!("{prefix}StateEntered"),
        Some((
            "stateEnteredEventDetails",
            json!({"name": name, "input": text(&raw_input), "inputDetails": {"truncated": false}}),
        )),
    );

    match kind.as_str() {
        "Fail" => {
            let context = context_for(shared, state, name, &entered, 0, frame, None);
            return Err(fail_state_error(state, &raw_input, &context)?);
        }
        "Succeed" | "Pass" | "Wait" | "Choice" => {
            let context = context_for(shared, state, name, &entered, 0, frame, None);
            let step = match kind.as_str() {
                "Succeed" => {
                    let effective = apply_filter_path(state, "InputPath", &raw_input, &context)?;
                    Step::End(apply_filter_path(
                        state,
                        "OutputPath",
                        &effective,
                        &context,
                    )?)
                }
                "Pass" => {
                    let effective = apply_filter_path(state, "InputPath", &raw_input, &context)?;
                    let result = if let Some(template) = state.get("Parameters") {
                        apply_template(template, &effective, &context)?
                    } else if let Some(result) = state.get("Result") {
                        result.clone()
                    } else {
                        effective
                    };
                    let combined = apply_result_path(state.get("ResultPath"), &raw_input, result)?;
                    next_step(
                        state,
                        apply_filter_path(state, "OutputPath", &combined, &context)?,
                    )
                }
                "Wait" => {
                    let effective = apply_filter_path(state, "InputPath", &raw_input, &context)?;
                    let delay = wait_duration(state, &effective, &context, shared.clock.now())?;
                    if !delay.is_zero() {
                        shared.clock.sleep(delay).await;
                    }
                    next_step(
                        state,
                        apply_filter_path(state, "OutputPath", &effective, &context)?,
                    )
                }
                _ => {
                    let effective = apply_filter_path(state, "InputPath", &raw_input, &context)?;
                    let target = choice::choose(state, &effective, &context)?;
                    let output = apply_filter_path(state, "OutputPath", &effective, &context)?;
                    match target {
                        Some(next) => Step::Next(next, output),
                        None => {
                            return Err(StatesError::new(
                                names::NO_CHOICE_MATCHED,
                                format!(
                                    "No Choice Rules matched and no Default was specified in state '{name}'"
                                ),
                            ));
                        }
                    }
                }
            };
            let output = match &step {
                Step::Next(_, output) | Step::End(output) => output,
            };
            shared.record(
                &mut frame.cursor,
                &format!("{prefix}StateExited"),
                Some(("stateExitedEventDetails", json!({"name": name, "output": text(output), "outputDetails": {"truncated": false}}))),
            );
            return Ok(step);
        }
        _ => {}
    }

    // Task, Map and Parallel: attempts with Retry, then Catch.
    let retriers: Vec<Value> = state
        .get("Retry")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut attempts_per_retrier = vec![0u64; retriers.len()];
    let mut retry_count: u32 = 0;
    loop {
        let context = context_for(shared, state, name, &entered, retry_count, frame, None);
        let attempt = run_attempt(
            shared,
            name,
            &kind,
            state,
            &raw_input,
            &context,
            frame,
            retry_count,
        )
        .await;
        let failure = match attempt {
            Ok(output) => {
                shared.record(
                    &mut frame.cursor,
                    &format!("{prefix}StateExited"),
                    Some(("stateExitedEventDetails", json!({"name": name, "output": text(&output), "outputDetails": {"truncated": false}}))),
                );
                return Ok(next_step(state, output));
            }
            Err(failure) => failure,
        };
        if failure.is_terminal() {
            return Err(failure);
        }
        // the first retrier whose ErrorEquals matches decides
        let matching = retriers.iter().position(|retrier| {
            retrier
                .get("ErrorEquals")
                .and_then(Value::as_array)
                .is_some_and(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|p| error_equals_matches(p, &failure))
                })
        });
        if let Some(index) = matching {
            let retrier = &retriers[index];
            let max_attempts = retrier
                .get("MaxAttempts")
                .and_then(Value::as_u64)
                .unwrap_or(3);
            if attempts_per_retrier[index] < max_attempts {
                let delay = retry_delay(retrier, attempts_per_retrier[index]);
                attempts_per_retrier[index] += 1;
                retry_count += 1;
                shared.transitions.fetch_add(1, Ordering::Relaxed);
                if !delay.is_zero() {
                    shared.clock.sleep(delay).await;
                }
                continue;
            }
        }
        let catchers = state.get("Catch").and_then(Value::as_array);
        let catcher = catchers.into_iter().flatten().find(|catcher| {
            catcher
                .get("ErrorEquals")
                .and_then(Value::as_array)
                .is_some_and(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|p| error_equals_matches(p, &failure))
                })
        });
        let Some(catcher) = catcher else {
            return Err(failure);
        };
        let next = str_field(catcher, "Next").unwrap_or_default().to_string();
        let output = apply_result_path(
            catcher.get("ResultPath"),
            &raw_input,
            failure.to_catch_output(),
        )?;
        shared.record(
            &mut frame.cursor,
            &format!("{prefix}StateExited"),
            Some(("stateExitedEventDetails", json!({"name": name, "output": text(&output), "outputDetails": {"truncated": false}}))),
        );
        return Ok(Step::Next(next, output));
    }
}

fn retry_delay(retrier: &Value, attempt: u64) -> Duration {
    let interval = retrier
        .get("IntervalSeconds")
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    let backoff = retrier
        .get("BackoffRate")
        .and_then(Value::as_f64)
        .unwrap_or(2.0);
    let mut seconds = interval * backoff.powi(attempt.min(64) as i32);
    if let Some(max) = retrier.get("MaxDelaySeconds").and_then(Value::as_f64) {
        seconds = seconds.min(max);
    }
    if str_field(retrier, "JitterStrategy") == Some("FULL") {
        seconds *= rand::random::<f64>();
    }
    if !seconds.is_finite() || seconds < 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(seconds.min(31_536_000.0))
}

fn fail_state_error(
    state: &Value,
    input: &Value,
    context: &Value,
) -> Result<StatesError, StatesError> {
    let read = |field: &str, path_field: &str| -> Result<String, StatesError> {
        if let Some(value) = str_field(state, field) {
            return Ok(value.to_string());
        }
        match str_field(state, path_field) {
            Some(path) => {
                let value = evaluate_dynamic(path, input, context)
                    .map_err(|e| StatesError::runtime(format!("{path_field}: {}", e.cause)))?;
                match value {
                    Value::String(text) => Ok(text),
                    other => Err(StatesError::runtime(format!(
                        "The {path_field} '{path}' must select a string, got {other}"
                    ))),
                }
            }
            None => Ok(String::new()),
        }
    };
    Ok(StatesError::new(
        read("Error", "ErrorPath")?,
        read("Cause", "CausePath")?,
    ))
}

fn wait_duration(
    state: &Value,
    input: &Value,
    context: &Value,
    now: DateTime<Utc>,
) -> Result<Duration, StatesError> {
    let reference = |path: &str| -> Result<Value, StatesError> {
        let parsed = jsonpath::ReferencePath::parse(path)
            .map_err(|e| StatesError::runtime(format!("Invalid path '{path}': {e}")))?;
        parsed.get(input, Some(context)).cloned().ok_or_else(|| {
            StatesError::runtime(format!(
                "The path '{path}' could not be found in the input '{input}'"
            ))
        })
    };
    let until = |stamp: &str| -> Result<Duration, StatesError> {
        let at = DateTime::parse_from_rfc3339(stamp)
            .map_err(|_| StatesError::runtime(format!("'{stamp}' is not an RFC3339 timestamp")))?
            .with_timezone(&Utc);
        Ok((at - now).to_std().unwrap_or(Duration::ZERO))
    };
    if let Some(seconds) = state.get("Seconds") {
        return seconds
            .as_u64()
            .map(Duration::from_secs)
            .ok_or_else(|| StatesError::runtime("Seconds must be a non-negative integer"));
    }
    if let Some(path) = str_field(state, "SecondsPath") {
        let value = reference(path)?;
        return value.as_u64().map(Duration::from_secs).ok_or_else(|| {
            StatesError::runtime(format!(
                "The SecondsPath '{path}' must select a non-negative integer, got {value}"
            ))
        });
    }
    if let Some(stamp) = str_field(state, "Timestamp") {
        return until(stamp);
    }
    if let Some(path) = str_field(state, "TimestampPath") {
        let value = reference(path)?;
        let stamp = value.as_str().ok_or_else(|| {
            StatesError::runtime(format!(
                "The TimestampPath '{path}' must select a string, got {value}"
            ))
        })?;
        return until(stamp);
    }
    Err(StatesError::runtime(
        "a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath",
    ))
}

/// One attempt of a Task, Map or Parallel state: input processing, the work, output processing.
#[allow(clippy::too_many_arguments)]
async fn run_attempt(
    shared: &Arc<Shared>,
    name: &str,
    kind: &str,
    state: &Value,
    raw_input: &Value,
    context: &Value,
    frame: &mut Frame,
    retry_count: u32,
) -> Result<Value, StatesError> {
    let effective = apply_filter_path(state, "InputPath", raw_input, context)?;
    let result = match kind {
        "Task" => {
            let resource = str_field(state, "Resource").unwrap_or_default();
            let token = matches!(
                classify_resource(resource),
                ResourceKind::LambdaInvoke {
                    wait_for_token: true
                } | ResourceKind::Other {
                    wait_for_token: true
                }
            )
            .then(|| uuid::Uuid::new_v4().to_string());
            let effective = match state.get("Parameters") {
                Some(template) => match &token {
                    Some(token) => {
                        let mut with_token = context.clone();
                        if let Value::Object(map) = &mut with_token {
                            map.insert("Task".into(), json!({"Token": token}));
                        }
                        apply_template(template, &effective, &with_token)?
                    }
                    None => apply_template(template, &effective, context)?,
                },
                None => effective,
            };
            run_task(
                shared,
                name,
                state,
                effective,
                context,
                frame,
                retry_count,
                token,
            )
            .await?
        }
        "Parallel" => {
            let effective = match state.get("Parameters") {
                Some(template) => apply_template(template, &effective, context)?,
                None => effective,
            };
            run_parallel(shared, name, state, effective, frame).await?
        }
        "Map" => run_map(shared, name, state, effective, context, frame).await?,
        other => {
            return Err(StatesError::runtime(format!(
                "unknown state type '{other}'"
            )));
        }
    };
    let result = match state.get("ResultSelector") {
        Some(template) => apply_template(template, &result, context)?,
        None => result,
    };
    let combined = apply_result_path(state.get("ResultPath"), raw_input, result)?;
    apply_filter_path(state, "OutputPath", &combined, context)
}

fn timeout_of(
    state: &Value,
    field: &str,
    path_field: &str,
    input: &Value,
    context: &Value,
) -> Result<Option<u64>, StatesError> {
    if let Some(seconds) = state.get(field) {
        return Ok(seconds.as_u64());
    }
    if let Some(path) = str_field(state, path_field) {
        let value = jsonpath::ReferencePath::parse(path)
            .ok()
            .and_then(|p| p.get(input, Some(context)).cloned())
            .ok_or_else(|| {
                StatesError::runtime(format!("The {path_field} '{path}' could not be found"))
            })?;
        return value.as_u64().filter(|s| *s > 0).map(Some).ok_or_else(|| {
            StatesError::runtime(format!(
                "The {path_field} '{path}' must select a positive integer"
            ))
        });
    }
    Ok(None)
}

#[allow(clippy::too_many_arguments)]
async fn run_task(
    shared: &Arc<Shared>,
    name: &str,
    state: &Value,
    effective: Value,
    context: &Value,
    frame: &mut Frame,
    retry_count: u32,
    token: Option<String>,
) -> Result<Value, StatesError> {
    let resource = str_field(state, "Resource")
        .ok_or_else(|| StatesError::runtime(format!("Task state '{name}' has no Resource")))?
        .to_string();
    let kind = classify_resource(&resource);
    let timeout = timeout_of(
        state,
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        &effective,
        context,
    )?;
    let (scheduled, started, succeeded, failed, timed_out, details_key) = match kind {
        ResourceKind::LambdaArn => (
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "LambdaFunctionFailed",
            "LambdaFunctionTimedOut",
            "lambdaFunction",
        ),
        _ => (
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskFailed",
            "TaskTimedOut",
            "task",
        ),
    };
    let (resource_type, resource_name) = resource_type_and_name(&resource);
    let scheduled_details = if kind == ResourceKind::LambdaArn {
        let mut details = json!({"resource": resource, "input": text(&effective), "inputDetails": {"truncated": false}});
        if let Some(seconds) = timeout {
            details["timeoutInSeconds"] = json!(seconds);
        }
        details
    } else {
        let mut details = json!({"resourceType": resource_type, "resource": resource_name, "region": region_of(shared), "parameters": text(&effective)});
        if let Some(seconds) = timeout {
            details["timeoutInSeconds"] = json!(seconds);
        }
        details
    };
    shared.record(
        &mut frame.cursor,
        scheduled,
        Some((
            &format!("{details_key}ScheduledEventDetails"),
            scheduled_details,
        )),
    );
    let task_details = |extra: Map<String, Value>| -> Value {
        let mut details = if kind == ResourceKind::LambdaArn {
            Map::new()
        } else {
            let mut map = Map::new();
            map.insert("resourceType".into(), json!(resource_type));
            map.insert("resource".into(), json!(resource_name));
            map
        };
        details.extend(extra);
        Value::Object(details)
    };
    shared.record(
        &mut frame.cursor,
        started,
        if kind == ResourceKind::LambdaArn {
            None
        } else {
            Some(("taskStartedEventDetails", task_details(Map::new())))
        },
    );
    let task_context = TaskContext {
        state_name: name.to_string(),
        execution_arn: shared.execution_arn.clone(),
        execution_name: shared.execution_name.clone(),
        retry_count,
        task_token: token,
        map_item_index: frame.map_item.as_ref().map(|(index, _)| *index),
        clock: shared.clock.clone(),
    };
    let invocation = TaskInvocation {
        resource: resource.clone(),
        input: effective,
        context: task_context,
    };
    let call = shared.handler.invoke_task(invocation);
    let outcome = match timeout {
        Some(seconds) => {
            let timer = shared.clock.timer(Duration::from_secs(seconds));
            tokio::select! {
                outcome = call => Some(outcome),
                _ = timer => None,
            }
        }
        None => Some(call.await),
    };
    match outcome {
        Some(Ok(result)) => {
            let mut extra = Map::new();
            extra.insert("output".into(), json!(text(&result)));
            extra.insert("outputDetails".into(), json!({"truncated": false}));
            shared.record(
                &mut frame.cursor,
                succeeded,
                Some((
                    &format!("{details_key}SucceededEventDetails"),
                    task_details(extra),
                )),
            );
            Ok(result)
        }
        Some(Err(failure)) => {
            let mut extra = Map::new();
            extra.insert("error".into(), json!(failure.error));
            extra.insert("cause".into(), json!(failure.cause));
            shared.record(
                &mut frame.cursor,
                failed,
                Some((
                    &format!("{details_key}FailedEventDetails"),
                    task_details(extra),
                )),
            );
            Err(failure)
        }
        None => {
            let failure = StatesError::timeout(format!(
                "The task of state '{name}' ran longer than its TimeoutSeconds ({}s)",
                timeout.unwrap_or(0)
            ));
            let mut extra = Map::new();
            extra.insert("error".into(), json!(failure.error));
            extra.insert("cause".into(), json!(failure.cause));
            shared.record(
                &mut frame.cursor,
                timed_out,
                Some((
                    &format!("{details_key}TimedOutEventDetails"),
                    task_details(extra),
                )),
            );
            Err(failure)
        }
    }
}

/// Ends a Parallel or Map (`kind`) once its branches or iterations are done: the first failure fails the
/// state, else the results, in order, are its output.
fn finish_fan_out(
    shared: &Shared,
    frame: &mut Frame,
    kind: &str,
    failure: Option<StatesError>,
    results: Vec<Option<Value>>,
) -> Result<Value, StatesError> {
    if let Some(error) = failure {
        let details = json!({"error": error.error, "cause": error.cause});
        let details_key = format!("{}StateFailedEventDetails", kind.to_ascii_lowercase());
        shared.record(
            &mut frame.cursor,
            &format!("{kind}StateFailed"),
            Some((details_key.as_str(), details)),
        );
        return Err(error);
    }
    shared.record(&mut frame.cursor, &format!("{kind}StateSucceeded"), None);
    Ok(Value::Array(
        results
            .into_iter()
            .map(|r| r.unwrap_or(Value::Null))
            .collect(),
    ))
}

fn region_of(shared: &Shared) -> String {
    shared
        .execution_arn
        .split(':')
        .nth(3)
        .unwrap_or("us-east-1")
        .to_string()
}

/// `arn:aws:states:::lambda:invoke` → (`lambda`, `invoke`); other ARNs → (service, rest).
fn resource_type_and_name(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
        let mut parts = rest.splitn(2, ':');
        let service = parts.next().unwrap_or_default().to_string();
        let action = parts.next().unwrap_or_default().to_string();
        return (service, action);
    }
    let parts: Vec<&str> = resource.split(':').collect();
    (
        parts.get(2).copied().unwrap_or("unknown").to_string(),
        resource.to_string(),
    )
}

async fn run_parallel(
    shared: &Arc<Shared>,
    name: &str,
    state: &Value,
    input: Value,
    frame: &mut Frame,
) -> Result<Value, StatesError> {
    let branches: Vec<Arc<Value>> = state
        .get("Branches")
        .and_then(Value::as_array)
        .map(|branches| branches.iter().map(|b| Arc::new(b.clone())).collect())
        .unwrap_or_default();
    shared.record(&mut frame.cursor, "ParallelStateStarted", None);
    let mut set = JoinSet::new();
    for (index, branch) in branches.into_iter().enumerate() {
        let worker = WorkerGuard::new(shared.clock.clone());
        let branch_frame = Frame {
            cursor: frame.cursor,
            map_item: frame.map_item.clone(),
        };
        let future = run_machine(shared.clone(), branch, input.clone(), branch_frame);
        set.spawn(async move {
            let (outcome, _) = future.await;
            // the token travels with the result: the parent is busy with it before time may move on
            (index, outcome, worker)
        });
    }
    let idle = IdleGuard::new(shared.clock.clone());
    let mut results: Vec<Option<Value>> = vec![None; set.len()];
    let mut failure = None;
    // the token of the failing branch is held until the others are stopped
    let mut held_token = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((index, Ok(output), _token)) => results[index] = Some(output),
            Ok((_, Err(error), token)) => {
                failure = Some(error);
                held_token = Some(token);
                break;
            }
            Err(join_error) => {
                failure = Some(StatesError::runtime(format!(
                    "a branch of '{name}' panicked: {join_error}"
                )));
                break;
            }
        }
    }
    // stop the other branches; a task already handed to the handler is not undone
    set.abort_all();
    while set.join_next().await.is_some() {}
    drop(held_token);
    drop(idle);
    finish_fan_out(shared, frame, "Parallel", failure, results)
}

async fn run_map(
    shared: &Arc<Shared>,
    name: &str,
    state: &Value,
    effective: Value,
    context: &Value,
    frame: &mut Frame,
) -> Result<Value, StatesError> {
    let items = match str_field(state, "ItemsPath") {
        Some(path) => {
            let parsed = jsonpath::ReferencePath::parse(path)
                .map_err(|e| StatesError::runtime(format!("Invalid ItemsPath '{path}': {e}")))?;
            parsed
                .get(&effective, Some(context))
                .cloned()
                .ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The ItemsPath '{path}' could not be found in the input '{effective}'"
                    ))
                })?
        }
        None => effective.clone(),
    };
    let Value::Array(items) = items else {
        return Err(StatesError::runtime(format!(
            "Map state '{name}': the items must be a JSON array, got {items}"
        )));
    };
    let selector = state
        .get("ItemSelector")
        .or_else(|| state.get("Parameters"))
        .cloned();
    let processor = Arc::new(
        state
            .get("ItemProcessor")
            .or_else(|| state.get("Iterator"))
            .cloned()
            .ok_or_else(|| {
                StatesError::runtime(format!("Map state '{name}' has no ItemProcessor"))
            })?,
    );
    let max_concurrency = match state
        .get("MaxConcurrency")
        .and_then(Value::as_u64)
        .unwrap_or(0)
    {
        0 => UNBOUNDED_MAP_CONCURRENCY,
        n => n as usize,
    };
    let tolerated_count = state.get("ToleratedFailureCount").and_then(Value::as_u64);
    let tolerated_percentage = state
        .get("ToleratedFailurePercentage")
        .and_then(Value::as_f64);
    let tolerant = tolerated_count.is_some() || tolerated_percentage.is_some();
    let total = items.len();

    shared.record(
        &mut frame.cursor,
        "MapStateStarted",
        Some(("mapStateStartedEventDetails", json!({"length": total}))),
    );
    let map_started_cursor = frame.cursor;

    // item inputs are computed up front: a selector failure fails the Map before any iteration
    let mut inputs = Vec::with_capacity(total);
    for (index, item) in items.into_iter().enumerate() {
        let item_input = match &selector {
            Some(template) => {
                let mut item_context = context.clone();
                if let Value::Object(map) = &mut item_context {
                    map.insert(
                        "Map".into(),
                        json!({"Item": {"Index": index, "Value": item}}),
                    );
                }
                apply_template(template, &effective, &item_context)?
            }
            None => item.clone(),
        };
        inputs.push((index, item, item_input));
    }

    // A pool of min(items, MaxConcurrency) workers takes items in order from a shared queue. Each
    // worker stays registered with the clock while it has work, and every result carries its own clock
    // token to the parent, so a virtual clock never moves on while a result is in flight.
    let queue = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(
        inputs,
    )));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failed_count = Arc::new(AtomicU64::new(0));
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let mut set = JoinSet::new();
    for _ in 0..max_concurrency.min(total) {
        let shared = shared.clone();
        let processor = processor.clone();
        let queue = queue.clone();
        let stop = stop.clone();
        let failed_count = failed_count.clone();
        let sender = sender.clone();
        let name = name.to_string();
        let worker = WorkerGuard::new(shared.clock.clone());
        set.spawn(async move {
            let _worker = worker;
            loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some((index, item, item_input)) = next else {
                    return;
                };
                let mut cursor = map_started_cursor;
                shared.record(
                    &mut cursor,
                    "MapIterationStarted",
                    Some((
                        "mapIterationStartedEventDetails",
                        json!({"name": name, "index": index}),
                    )),
                );
                let iteration_frame = Frame {
                    cursor,
                    map_item: Some((index, item)),
                };
                let (outcome, mut cursor) = run_machine(
                    shared.clone(),
                    processor.clone(),
                    item_input,
                    iteration_frame,
                )
                .await;
                let (event, details) = match &outcome {
                    Ok(_) => ("MapIterationSucceeded", "mapIterationSucceededEventDetails"),
                    Err(_) => ("MapIterationFailed", "mapIterationFailedEventDetails"),
                };
                shared.record(
                    &mut cursor,
                    event,
                    Some((details, json!({"name": name, "index": index}))),
                );
                if let Err(error) = &outcome {
                    let failures = failed_count.fetch_add(1, Ordering::SeqCst) + 1;
                    if error.is_terminal()
                        || !tolerant
                        || over_threshold(failures, total, tolerated_count, tolerated_percentage)
                    {
                        stop.store(true, Ordering::SeqCst);
                    }
                }
                let token = WorkerGuard::new(shared.clock.clone());
                if sender.send((index, outcome, token)).is_err() {
                    return;
                }
            }
        });
    }
    drop(sender);
    let idle = IdleGuard::new(shared.clock.clone());
    let mut results: Vec<Option<Value>> = vec![None; total];
    let mut failures = 0u64;
    let mut failure: Option<StatesError> = None;
    let mut held_token = None;
    while let Some((index, outcome, token)) = receiver.recv().await {
        // a result's token is dropped once it is dealt with; for the failure that ends the Map, only
        // after the other iterations are stopped
        let ends_map = match &outcome {
            Ok(_) => false,
            Err(error) => {
                error.is_terminal()
                    || !tolerant
                    || over_threshold(failures + 1, total, tolerated_count, tolerated_percentage)
            }
        };
        if ends_map {
            held_token = Some(token);
        } else {
            drop(token);
        }
        match outcome {
            Ok(output) => results[index] = Some(output),
            Err(error) if error.is_terminal() || !tolerant => {
                failure = Some(error);
                break;
            }
            Err(error) => {
                failures += 1;
                if over_threshold(failures, total, tolerated_count, tolerated_percentage) {
                    failure = Some(StatesError::new(
                        names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                        format!(
                            "The Map state '{name}' had {failures} failed iteration(s), more than it tolerates"
                        ),
                    ));
                    break;
                }
                results[index] = Some(error.to_catch_output());
            }
        }
    }
    if failure.is_none() && results.iter().any(Option::is_none) {
        failure = Some(StatesError::runtime(format!(
            "an iteration of '{name}' ended without a result"
        )));
    }
    drop(receiver);
    set.abort_all();
    while set.join_next().await.is_some() {}
    drop(held_token);
    drop(idle);
    finish_fan_out(shared, frame, "Map", failure, results)
}
