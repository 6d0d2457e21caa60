//! Step Functions: the template's state machines run by the `sfn` interpreter, Task states invoking the
//! template's functions through [`LambdaService`], checked against the state machine's role.
//!
//! Served in Step Functions' own JSON protocol (`POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`),
//! so `aws stepfunctions ... --endpoint-url` works: StartExecution, StartSyncExecution, DescribeExecution,
//! GetExecutionHistory, ListExecutions, ListStateMachines, DescribeStateMachine. Standard executions run in
//! the background; Express ones started with StartSyncExecution answer when they end.

use crate::iam::RolePolicy;
use crate::lambda::{InvokeError, LambdaService};
use crate::template::{ACCOUNT_ID, Resource, Stack, TemplateError};
use axum::body::Bytes;
use futures::future::BoxFuture;
use indexmap::IndexMap;
use serde_json::{Value, json};
use sfn::{
    ExecutionHistory, ExecutionOptions, ExecutionResult, Executor, FunctionCall, StatesError,
    TaskHandler,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// StartExecution's input limit (256 KiB).
const MAX_INPUT_BYTES: usize = 262_144;

#[derive(Debug, thiserror::Error)]
pub enum StatesSetupError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("state machine {resource}: its definition is not valid: {message}")]
    Definition { resource: String, message: String },
}

/// An error of the Step Functions API: HTTP 400 with `{"__type": ..., "message": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(error_type: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            error_type,
            message: message.into(),
        }
    }

    pub fn body(&self) -> Value {
        let prefix = if self.error_type == "AccessDeniedException" {
            "com.amazon.coral.service#"
        } else {
            "com.amazonaws.swf.service.v2.model#"
        };
        json!({"__type": format!("{prefix}{}", self.error_type), "message": self.message})
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineType {
    Standard,
    Express,
}

pub struct Machine {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub machine_type: MachineType,
    pub role_arn: String,
    pub definition: Value,
    machine: sfn::StateMachine,
    executor: Executor,
}

/// One execution, running or ended.
#[derive(Clone)]
struct ExecutionRecord {
    arn: String,
    machine_arn: String,
    name: String,
    input: Value,
    start_date: f64,
    result: Option<ExecutionResult>,
    stop_date: Option<f64>,
    /// Shared with the running execution: its events so far, then all of them.
    history: ExecutionHistory,
}

/// Time spent by executions, for `/_local/stats` and the benchmarks.
#[derive(Debug, Default)]
pub struct StatesStats {
    pub started: AtomicU64,
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    pub transitions: AtomicU64,
    /// Wall time of ended executions, in microseconds.
    pub execution_micros: AtomicU64,
}

pub struct StatesService {
    machines: IndexMap<String, Arc<Machine>>,
    executions: Mutex<IndexMap<String, ExecutionRecord>>,
    region: String,
    pub stats: StatesStats,
}

/// Task states: every Lambda call goes through the emulator's functions, if the machine's role allows it.
struct LambdaTasks {
    lambda: Arc<LambdaService>,
    role: Option<RolePolicy>,
    role_arn: String,
}

impl TaskHandler for LambdaTasks {
    fn invoke_function(&self, call: FunctionCall) -> BoxFuture<'_, Result<Value, StatesError>> {
        Box::pin(async move {
            let Some(function) = self.lambda.function(&call.function) else {
                return Err(StatesError::new(
                    "Lambda.ResourceNotFoundException",
                    format!(
                        "Function not found: {} (Service: Lambda, Status Code: 404)",
                        call.function
                    ),
                ));
            };
            let arn = function.config.arn.clone();
            let allowed = self.role.as_ref().is_some_and(|role| {
                role.allows("lambda:InvokeFunction", &arn)
                    || role.allows("lambda:InvokeFunction", &format!("{arn}:*"))
            });
            if !allowed {
                return Err(StatesError::new(
                    "Lambda.AWSLambdaException",
                    format!(
                        "User: {} is not authorized to perform: lambda:InvokeFunction on resource: {arn} because no identity-based policy allows the lambda:InvokeFunction action (Service: Lambda, Status Code: 403)",
                        self.role_arn
                    ),
                ));
            }
            let payload = Bytes::from(call.payload.to_string());
            match function.invoke(payload).await {
                Ok(body) => serde_json::from_slice(&body).or_else(|_| {
                    // A non-JSON answer is kept as a string, as Lambda returns it.
                    Ok(Value::String(String::from_utf8_lossy(&body).into_owned()))
                }),
                Err(InvokeError::Function {
                    error_type,
                    error_message,
                    stack_trace,
                }) => Err(StatesError::lambda_function_error(
                    &error_type,
                    &error_message,
                    &stack_trace,
                )),
                Err(InvokeError::Service {
                    error_type,
                    message,
                }) => Err(StatesError::new(
                    format!("Lambda.{error_type}"),
                    format!("{message} (Service: Lambda, Status Code: 429)"),
                )),
            }
        })
    }
}

impl StatesService {
    pub fn from_stack(
        stack: &Stack,
        lambda: Arc<LambdaService>,
    ) -> Result<StatesService, StatesSetupError> {
        let mut machines = IndexMap::new();
        for resource in stack.of_type("AWS::StepFunctions::StateMachine") {
            let machine = machine(stack, resource, lambda.clone())?;
            machines.insert(machine.arn.clone(), Arc::new(machine));
        }
        Ok(StatesService {
            machines,
            executions: Mutex::new(IndexMap::new()),
            region: stack.region().to_string(),
            stats: StatesStats::default(),
        })
    }

    pub fn machines(&self) -> impl Iterator<Item = &Arc<Machine>> {
        self.machines.values()
    }

    /// Dispatches one call of the Step Functions API.
    pub async fn call(self: &Arc<Self>, action: &str, request: Value) -> Result<Value, ApiError> {
        match action {
            "StartExecution" => self.start_execution(&request, None),
            "StartSyncExecution" => self.start_sync_execution(&request, None).await,
            "DescribeExecution" => self.describe_execution(&request),
            "GetExecutionHistory" => self.execution_history(&request),
            "ListExecutions" => self.list_executions(&request),
            "ListStateMachines" => Ok(
                json!({"stateMachines": self.machines.values().map(|m| json!({
                "stateMachineArn": m.arn, "name": m.name, "type": type_name(m.machine_type), "creationDate": 0,
            })).collect::<Vec<_>>()}),
            ),
            "DescribeStateMachine" => {
                let machine = self.machine(&request)?;
                Ok(json!({
                    "stateMachineArn": machine.arn, "name": machine.name, "status": "ACTIVE",
                    "definition": machine.definition.to_string(), "roleArn": machine.role_arn,
                    "type": type_name(machine.machine_type), "creationDate": 0,
                }))
            }
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!("the local Step Functions endpoint does not implement {other}"),
            )),
        }
    }

    fn machine(&self, request: &Value) -> Result<Arc<Machine>, ApiError> {
        let arn = required_string(request, "stateMachineArn")?;
        if !arn.starts_with("arn:aws:states:") || !arn.contains(":stateMachine:") {
            return Err(ApiError::new(
                "InvalidArn",
                format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
            ));
        }
        self.machines.get(arn).cloned().ok_or_else(|| {
            ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{arn}'"),
            )
        })
    }

    /// Checks the request and registers the execution; `caller_role`, when given, must allow `action`.
    fn prepare(
        &self,
        request: &Value,
        action: &str,
        caller_role: Option<&RolePolicy>,
    ) -> Result<(Arc<Machine>, ExecutionRecord), ApiError> {
        let machine = self.machine(request)?;
        if let Some(role) = caller_role
            && !role.allows(&format!("states:{action}"), &machine.arn)
        {
            return Err(ApiError::new(
                "AccessDeniedException",
                format!(
                    "User: {} is not authorized to perform: states:{action} on resource: {} because no identity-based policy allows the states:{action} action",
                    role.role_arn
                        .replace(":iam::", ":sts::")
                        .replace(":role/", ":assumed-role/"),
                    machine.arn
                ),
            ));
        }
        let name = match request.get("name") {
            None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
            Some(Value::String(name)) => {
                validate_name(name)?;
                name.clone()
            }
            Some(other) => {
                return Err(ApiError::new(
                    "SerializationException",
                    format!("name must be a string, found {other}"),
                ));
            }
        };
        let input_text = match request.get("input") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => {
                return Err(ApiError::new(
                    "SerializationException",
                    format!("input must be a string, found {other}"),
                ));
            }
        };
        if input_text.len() > MAX_INPUT_BYTES {
            return Err(ApiError::new(
                "InvalidExecutionInput",
                format!(
                    "Input is too large: {} bytes, the limit is {MAX_INPUT_BYTES}",
                    input_text.len()
                ),
            ));
        }
        let input: Value = serde_json::from_str(&input_text).map_err(|e| {
            ApiError::new(
                "InvalidExecutionInput",
                format!("Invalid State Machine Execution Input: '{e}'"),
            )
        })?;
        let arn = format!(
            "arn:aws:states:{}:{ACCOUNT_ID}:{}:{}:{name}",
            self.region,
            if machine.machine_type == MachineType::Express {
                "express"
            } else {
                "execution"
            },
            machine.name
        );
        let record = ExecutionRecord {
            arn: arn.clone(),
            machine_arn: machine.arn.clone(),
            name,
            input,
            start_date: epoch_seconds(),
            result: None,
            stop_date: None,
            history: ExecutionHistory::new(),
        };
        let mut executions = self
            .executions
            .lock()
            .map_err(|_| ApiError::new("InternalError", "lock poisoned"))?;
        if executions.contains_key(&arn) {
            return Err(ApiError::new(
                "ExecutionAlreadyExists",
                format!("Execution Already Exists: '{arn}'"),
            ));
        }
        executions.insert(arn, record.clone());
        Ok((machine, record))
    }

    /// StartExecution: the execution runs in the background.
    pub fn start_execution(
        self: &Arc<Self>,
        request: &Value,
        caller_role: Option<&RolePolicy>,
    ) -> Result<Value, ApiError> {
        let (machine, record) = self.prepare(request, "StartExecution", caller_role)?;
        let answer = json!({"executionArn": record.arn, "startDate": record.start_date});
        let service = self.clone();
        tokio::spawn(async move {
            service.run(&machine, record).await;
        });
        Ok(answer)
    }

    /// StartSyncExecution: Express machines only; answers when the execution ends.
    pub async fn start_sync_execution(
        self: &Arc<Self>,
        request: &Value,
        caller_role: Option<&RolePolicy>,
    ) -> Result<Value, ApiError> {
        let machine = self.machine(request)?;
        if machine.machine_type != MachineType::Express {
            return Err(ApiError::new(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            ));
        }
        let (machine, record) = self.prepare(request, "StartSyncExecution", caller_role)?;
        let record = self.run(&machine, record).await;
        let mut answer = describe(&record);
        if let Some(object) = answer.as_object_mut() {
            object.remove("status");
            object.insert(
                "status".into(),
                json!(
                    record
                        .result
                        .as_ref()
                        .map(|r| r.status.as_str())
                        .unwrap_or("FAILED")
                ),
            );
            object.insert("billingDetails".into(), json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": ((record.stop_date.unwrap_or(record.start_date) - record.start_date) * 1000.0).ceil().max(100.0)}));
        }
        Ok(answer)
    }

    async fn run(&self, machine: &Machine, mut record: ExecutionRecord) -> ExecutionRecord {
        self.stats.started.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let options = ExecutionOptions {
            name: Some(record.name.clone()),
            state_machine_name: machine.name.clone(),
            region: self.region.clone(),
            account_id: ACCOUNT_ID.to_string(),
            role_arn: Some(machine.role_arn.clone()),
        };
        let mut result = machine
            .executor
            .run_with_history(
                &machine.machine,
                record.input.clone(),
                options,
                record.history.clone(),
            )
            .await;
        self.stats
            .execution_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.stats
            .transitions
            .fetch_add(result.state_transitions, Ordering::Relaxed);
        match result.status {
            sfn::ExecutionStatus::Succeeded => self.stats.succeeded.fetch_add(1, Ordering::Relaxed),
            _ => self.stats.failed.fetch_add(1, Ordering::Relaxed),
        };
        tracing::info!(
            execution = %record.arn,
            status = result.status.as_str(),
            error = result.error.as_deref().unwrap_or(""),
            millis = started.elapsed().as_millis() as u64,
            "execution ended"
        );
        record.stop_date = Some(epoch_seconds());
        // The record's history handle holds the same events: keeping the result's copy as well would
        // double each execution's memory and every clone of the record.
        result.history = Vec::new();
        record.result = Some(result);
        if let Ok(mut executions) = self.executions.lock() {
            executions.insert(record.arn.clone(), record.clone());
        }
        record
    }

    fn record(&self, request: &Value) -> Result<ExecutionRecord, ApiError> {
        let arn = required_string(request, "executionArn")?;
        self.executions
            .lock()
            .ok()
            .and_then(|e| e.get(arn).cloned())
            .ok_or_else(|| {
                ApiError::new(
                    "ExecutionDoesNotExist",
                    format!("Execution Does Not Exist: '{arn}'"),
                )
            })
    }

    fn describe_execution(&self, request: &Value) -> Result<Value, ApiError> {
        Ok(describe(&self.record(request)?))
    }

    /// GetExecutionHistory, for a running execution too: its events so far. Pages of `maxResults`
    /// (default and limit 1000, as AWS), `nextToken` to go on, `includeExecutionData: false` to leave
    /// inputs and outputs out.
    fn execution_history(&self, request: &Value) -> Result<Value, ApiError> {
        const PAGE_LIMIT: u64 = 1000;
        let record = self.record(request)?;
        let mut events = record.history.snapshot();
        if request.get("reverseOrder") == Some(&Value::Bool(true)) {
            events.reverse();
        }
        let page_size = match request.get("maxResults") {
            None | Some(Value::Null) => PAGE_LIMIT,
            Some(value) => match value.as_u64() {
                Some(0) => PAGE_LIMIT,
                Some(n) if n <= PAGE_LIMIT => n,
                _ => {
                    return Err(ApiError::new(
                        "ValidationException",
                        format!(
                            "1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {PAGE_LIMIT}"
                        ),
                    ));
                }
            },
        } as usize;
        let start = match request.get("nextToken") {
            None | Some(Value::Null) => 0,
            Some(Value::String(token)) => parse_history_token(token, &record.arn)?,
            Some(other) => {
                return Err(ApiError::new(
                    "SerializationException",
                    format!("nextToken must be a string, found {other}"),
                ));
            }
        };
        let include_data = request.get("includeExecutionData") != Some(&Value::Bool(false));
        let page: Vec<Value> = events
            .iter()
            .skip(start)
            .take(page_size)
            .map(|event| {
                let mut value = json!(event);
                if !include_data {
                    strip_execution_data(&mut value);
                }
                value
            })
            .collect();
        let mut answer = json!({"events": page});
        let next = start + page_size;
        if next < events.len() {
            answer["nextToken"] = json!(history_token(next, &record.arn));
        }
        Ok(answer)
    }

    fn list_executions(&self, request: &Value) -> Result<Value, ApiError> {
        let machine = self.machine(request)?;
        let filter = request.get("statusFilter").and_then(Value::as_str);
        let executions = self
            .executions
            .lock()
            .map_err(|_| ApiError::new("InternalError", "lock poisoned"))?;
        let listed: Vec<Value> = executions
            .values()
            .rev()
            .filter(|r| r.machine_arn == machine.arn)
            .map(describe)
            .filter(|d| filter.is_none_or(|f| d["status"] == f))
            .map(|d| {
                json!({
                    "executionArn": d["executionArn"], "stateMachineArn": d["stateMachineArn"], "name": d["name"],
                    "status": d["status"], "startDate": d["startDate"], "stopDate": d.get("stopDate"),
                })
            })
            .collect();
        Ok(json!({"executions": listed}))
    }
}

/// `nextToken` of GetExecutionHistory: the index of the next event, tied to its execution.
fn history_token(index: usize, execution_arn: &str) -> String {
    format!("{index}:{execution_arn}")
}

fn parse_history_token(token: &str, execution_arn: &str) -> Result<usize, ApiError> {
    token
        .split_once(':')
        .filter(|(_, arn)| *arn == execution_arn)
        .and_then(|(index, _)| index.parse().ok())
        .ok_or_else(|| ApiError::new("InvalidToken", format!("Invalid Token: '{token}'")))
}

/// `includeExecutionData: false`: the events keep their shape without inputs, outputs and parameters.
fn strip_execution_data(event: &mut Value) {
    let Some(object) = event.as_object_mut() else {
        return;
    };
    for (key, details) in object.iter_mut() {
        if !key.ends_with("EventDetails") {
            continue;
        }
        if let Some(details) = details.as_object_mut() {
            details.retain(|field, _| {
                !matches!(field.as_str(), "input" | "output" | "parameters" | "result")
            });
        }
    }
}

fn type_name(machine_type: MachineType) -> &'static str {
    match machine_type {
        MachineType::Standard => "STANDARD",
        MachineType::Express => "EXPRESS",
    }
}

/// DescribeExecution's shape.
fn describe(record: &ExecutionRecord) -> Value {
    let mut answer = json!({
        "executionArn": record.arn,
        "stateMachineArn": record.machine_arn,
        "name": record.name,
        "status": "RUNNING",
        "startDate": record.start_date,
        "input": record.input.to_string(),
        "inputDetails": {"included": true},
    });
    if let Some(result) = &record.result {
        answer["status"] = json!(result.status.as_str());
        answer["stopDate"] = json!(record.stop_date);
        answer["stateTransitions"] = json!(result.state_transitions);
        if let Some(output) = &result.output {
            answer["output"] = json!(output.to_string());
            answer["outputDetails"] = json!({"included": true});
        }
        if let Some(error) = &result.error {
            answer["error"] = json!(error);
        }
        if let Some(cause) = &result.cause {
            answer["cause"] = json!(cause);
        }
    }
    answer
}

fn epoch_seconds() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

fn required_string<'a>(request: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    match request.get(field) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(ApiError::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ),
        )),
        Some(other) => Err(ApiError::new(
            "SerializationException",
            format!("{field} must be a string, found {other}"),
        )),
    }
}

/// Execution names: 1 to 80 characters, none of whitespace, brackets, wildcards, special or control ones.
fn validate_name(name: &str) -> Result<(), ApiError> {
    let bad = name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c));
    let length = name.chars().count();
    if bad || length == 0 || length > 80 {
        return Err(ApiError::new(
            "InvalidName",
            format!("Invalid Name: '{name}'"),
        ));
    }
    Ok(())
}

/// Reads one state machine resource: its definition (object or string) with DefinitionSubstitutions.
fn machine(
    stack: &Stack,
    resource: &Resource,
    lambda: Arc<LambdaService>,
) -> Result<Machine, StatesSetupError> {
    let definition_text = match (resource.get("Definition"), resource.get("DefinitionString")) {
        (Some(definition), _) => definition.to_string(),
        (None, Some(Value::String(text))) => text.clone(),
        _ => {
            return Err(resource
                .error("Definition", "the state machine has neither Definition nor DefinitionString (S3 locations are not supported locally)")
                .into());
        }
    };
    let mut text = definition_text;
    if let Some(substitutions) = resource.get("DefinitionSubstitutions") {
        let Value::Object(substitutions) = substitutions else {
            return Err(resource
                .error("DefinitionSubstitutions", "expected a mapping")
                .into());
        };
        for (key, value) in substitutions {
            let replacement = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // The definition is JSON text here: the value goes in escaped, as inside a JSON string.
            let escaped = serde_json::to_string(&replacement).unwrap_or_default();
            text = text.replace(&format!("${{{key}}}"), &escaped[1..escaped.len() - 1]);
        }
    }
    let definition: Value =
        serde_json::from_str(&text).map_err(|e| StatesSetupError::Definition {
            resource: resource.logical_id.clone(),
            message: e.to_string(),
        })?;
    let parsed = sfn::StateMachine::from_value(definition.clone()).map_err(|e| {
        StatesSetupError::Definition {
            resource: resource.logical_id.clone(),
            message: e.to_string(),
        }
    })?;
    let machine_type = match resource.opt_str("StateMachineType")? {
        None | Some("STANDARD") => MachineType::Standard,
        Some("EXPRESS") => MachineType::Express,
        Some(other) => {
            return Err(resource
                .error("StateMachineType", format!("unknown type {other}"))
                .into());
        }
    };
    let role_arn = resource.opt_str("RoleArn")?.unwrap_or_default().to_string();
    let role = RolePolicy::for_role(stack, &role_arn);
    if role.is_none() {
        tracing::warn!(resource = %resource.logical_id, %role_arn, "the state machine's role is not in the template: every task will be denied");
    }
    let arn = resource.reference.clone();
    let name = arn.rsplit(':').next().unwrap_or(&arn).to_string();
    let handler = Arc::new(LambdaTasks {
        lambda,
        role,
        role_arn: role_arn.clone(),
    });
    Ok(Machine {
        logical_id: resource.logical_id.clone(),
        name,
        arn,
        machine_type,
        role_arn,
        definition,
        machine: parsed,
        executor: Executor::new(handler),
    })
}
