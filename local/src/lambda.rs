//! Lambda: each function of the template runs as real processes (its binary, built from `lambdas/`) that
//! speak the Lambda Runtime API this module serves, one listener per execution environment.
//!
//! A function has a pool of execution environments: an invocation takes a warm (idle) one or starts a new
//! process (a cold start, counted), up to the function's concurrency (`ReservedConcurrentExecutions`, else
//! the emulator's default). The function's `Timeout` is enforced by killing the process, as Lambda
//! does, and reported as `Sandbox.Timedout`; a process that dies mid-invocation is `Runtime.ExitError`;
//! a function error keeps the `errorType` the function reported, so Step Functions' Retry and Catch see
//! real error names.
//!
//! `MemorySize` is enforced as far as a process allows without cgroups: a watchdog reads the process's
//! peak resident memory (`VmHWM` in `/proc/<pid>/status`, Linux only) every few milliseconds and kills the
//! process once it is over the function's memory, reported as `Runtime.OutOfMemory` like Lambda does. A
//! peak between two readings is still seen (it is a high-water mark), but an allocation that grows faster
//! than the watchdog reads may overshoot before the kill. `RLIMIT_AS` is not an option: a multi-threaded
//! Rust process reserves far more address space than it uses.

use crate::template::{ACCOUNT_ID, Resource, Stack, TemplateError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

/// How long a new process may take to ask for its first invocation (Lambda's init phase limit).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the memory watchdog reads a process's peak resident memory.
const MEMORY_POLL: Duration = Duration::from_millis(20);
const MIB: u64 = 1024 * 1024;
/// Lambda's synchronous invocation payload limit (request and response).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum LambdaSetupError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(
        "function {function} (resource {resource}): its binary {path} does not exist. Build the functions first: `cargo build {packages}` (or point at another build with --functions-dir / --function-binary)"
    )]
    MissingBinary {
        function: String,
        resource: String,
        path: String,
        packages: String,
    },
    #[error(
        "--function-binary {0}: no function of the template has this logical id, name or binary"
    )]
    UnknownOverride(String),
}

/// What the emulator does when a function is at its concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConcurrencyLimitPolicy {
    /// Wait for an execution environment to be free (friendlier locally; not what Lambda does).
    Queue,
    /// Fail at once with `TooManyRequestsException`, as Lambda does for synchronous invocations.
    Throttle,
}

/// Settings that do not come from the template.
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    pub functions_dir: PathBuf,
    /// Function (logical id, name or binary) → binary path.
    pub binary_overrides: HashMap<String, PathBuf>,
    pub default_concurrency: usize,
    pub on_limit: ConcurrencyLimitPolicy,
    pub dynamodb_endpoint: String,
    /// Extra variables given to every function (after the template's).
    pub extra_environment: Vec<(String, String)>,
    /// Extra variables for one function, by logical id (SAM's `--env-vars` file).
    pub function_environment: HashMap<String, Vec<(String, String)>>,
}

/// One function, as the template describes it.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub binary: PathBuf,
    pub environment: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: u64,
    pub concurrency: usize,
}

/// Why an invocation did not return a payload.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeError {
    /// The function ran and failed: the error object it reported (`errorType`, `errorMessage`...).
    Function {
        error_type: String,
        error_message: String,
        stack_trace: Vec<String>,
    },
    /// The Lambda service refused or failed the call (`TooManyRequestsException`, `ResourceNotFoundException`...).
    Service { error_type: String, message: String },
}

impl InvokeError {
    fn function(error_type: &str, message: impl Into<String>) -> Self {
        InvokeError::Function {
            error_type: error_type.to_string(),
            error_message: message.into(),
            stack_trace: Vec::new(),
        }
    }

    /// The error payload Lambda returns for a function error (`X-Amz-Function-Error: Unhandled`).
    pub fn payload(&self) -> Value {
        match self {
            InvokeError::Function {
                error_type,
                error_message,
                stack_trace,
            } => {
                json!({"errorType": error_type, "errorMessage": error_message, "stackTrace": stack_trace})
            }
            InvokeError::Service {
                error_type,
                message,
            } => json!({"Type": "User", "__type": error_type, "message": message}),
        }
    }
}

/// Per-function counters.
#[derive(Debug, Default)]
pub struct FunctionStats {
    pub invocations: AtomicU64,
    pub cold_starts: AtomicU64,
    pub errors: AtomicU64,
    pub timeouts: AtomicU64,
    pub throttles: AtomicU64,
    /// Time spent in the function (request delivered → response), in microseconds.
    pub busy_micros: AtomicU64,
    /// Time spent starting processes (spawn → first `next`), in microseconds.
    pub init_micros: AtomicU64,
    /// Processes killed for going over `MemorySize`.
    pub out_of_memory: AtomicU64,
    /// The highest peak resident memory of any of the function's processes, in MiB (Lambda's
    /// "Max Memory Used"); shared with the memory watchdogs.
    pub max_memory_used_mb: Arc<AtomicU64>,
}

/// The answer of one invocation, as the Runtime API received it.
type Outcome = Result<Bytes, InvokeError>;

struct Invocation {
    request_id: String,
    payload: Bytes,
    deadline_ms: i64,
    trace_id: String,
    delivered: oneshot::Sender<()>,
    reply: oneshot::Sender<Outcome>,
}

/// The Runtime API side of one execution environment.
struct RuntimeApiState {
    function_arn: String,
    queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<InvokeError>>,
}

/// One execution environment: a process and its Runtime API listener.
struct Environment {
    sender: mpsc::Sender<Invocation>,
    state: Arc<RuntimeApiState>,
    exited: watch::Receiver<Option<ProcessEnd>>,
    kill: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Environment {
    /// Exited, or being killed: never to be reused.
    fn has_exited(&self) -> bool {
        self.kill.is_none() || self.exited.borrow().is_some()
    }

    fn kill_process(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
    }

    async fn wait_exit(&mut self) -> ProcessEnd {
        loop {
            if let Some(end) = self.exited.borrow().clone() {
                return end;
            }
            if self.exited.changed().await.is_err() {
                return ProcessEnd::Killed("the process watcher stopped");
            }
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill_process();
        self.server.abort();
    }
}

/// How a function's process ended.
#[derive(Debug, Clone, PartialEq)]
enum ProcessEnd {
    /// It exited on its own: its exit status as the OS reports it.
    Exited(String),
    /// The emulator killed it (timeout, no `next` within the init limit, shutdown).
    Killed(&'static str),
    /// The memory watchdog killed it: its peak resident memory went over `MemorySize`.
    OutOfMemory { peak_mb: u64, limit_mb: u64 },
}

/// The pool of one function.
pub struct FunctionPool {
    pub config: FunctionConfig,
    pub stats: FunctionStats,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Environment>>,
    on_limit: ConcurrencyLimitPolicy,
    next_environment: AtomicU64,
    /// Every live process, to kill them all on shutdown.
    shutdown: watch::Receiver<bool>,
}

/// Every function of the stack.
pub struct LambdaService {
    functions: HashMap<String, Arc<FunctionPool>>,
    shutdown: watch::Sender<bool>,
}

impl LambdaService {
    /// Reads the template's functions and checks their binaries exist. Processes start on first use.
    pub fn from_stack(
        stack: &Stack,
        settings: &LambdaSettings,
    ) -> Result<LambdaService, LambdaSetupError> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let configs = function_configs(stack, settings)?;
        let functions = configs
            .into_iter()
            .map(|config| {
                let pool = FunctionPool {
                    permits: Arc::new(Semaphore::new(config.concurrency)),
                    config,
                    stats: FunctionStats::default(),
                    idle: Mutex::new(Vec::new()),
                    on_limit: settings.on_limit,
                    next_environment: AtomicU64::new(1),
                    shutdown: shutdown_rx.clone(),
                };
                (pool.config.name.clone(), Arc::new(pool))
            })
            .collect();
        Ok(LambdaService {
            functions,
            shutdown,
        })
    }

    /// The function a name, partial or full ARN (optionally qualified) designates.
    pub fn function(&self, reference: &str) -> Option<&Arc<FunctionPool>> {
        let name = function_name_of(reference);
        self.functions.get(name)
    }

    pub fn functions(&self) -> impl Iterator<Item = &Arc<FunctionPool>> {
        self.functions.values()
    }

    /// Synchronous invocation (`InvocationType: RequestResponse`).
    pub async fn invoke(&self, reference: &str, payload: Bytes) -> Outcome {
        let Some(pool) = self.function(reference) else {
            return Err(InvokeError::Service {
                error_type: "ResourceNotFoundException".into(),
                message: format!(
                    "Function not found: arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{}",
                    function_name_of(reference)
                ),
            });
        };
        pool.invoke(payload).await
    }

    /// Kills every process (Ctrl-C).
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        for pool in self.functions.values() {
            if let Ok(mut idle) = pool.idle.lock() {
                idle.clear();
            }
        }
    }

    /// Counters of every function, for `/_local/stats`.
    pub fn stats(&self) -> Value {
        let mut functions: Vec<_> = self.functions.values().collect();
        functions.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        Value::Array(
            functions
                .into_iter()
                .map(|pool| {
                    let s = &pool.stats;
                    let idle = pool.idle.lock().map(|i| i.len()).unwrap_or(0);
                    json!({
                        "functionName": pool.config.name,
                        "logicalId": pool.config.logical_id,
                        "binary": pool.config.binary.display().to_string(),
                        "concurrency": pool.config.concurrency,
                        "warmEnvironments": idle,
                        "invocations": s.invocations.load(Ordering::Relaxed),
                        "coldStarts": s.cold_starts.load(Ordering::Relaxed),
                        "errors": s.errors.load(Ordering::Relaxed),
                        "timeouts": s.timeouts.load(Ordering::Relaxed),
                        "outOfMemory": s.out_of_memory.load(Ordering::Relaxed),
                        "memorySizeMB": pool.config.memory_mb,
                        "maxMemoryUsedMB": s.max_memory_used_mb.load(Ordering::Relaxed),
                        "throttles": s.throttles.load(Ordering::Relaxed),
                        "busyMillis": s.busy_micros.load(Ordering::Relaxed) / 1000,
                        "initMillis": s.init_micros.load(Ordering::Relaxed) / 1000,
                    })
                })
                .collect(),
        )
    }
}

/// `arn:aws:lambda:r:a:function:NAME[:qualifier]`, `a:function:NAME`, `NAME[:qualifier]` → `NAME`.
pub fn function_name_of(reference: &str) -> &str {
    let parts: Vec<&str> = reference.split(':').collect();
    match parts.iter().position(|p| *p == "function") {
        Some(i) if i + 1 < parts.len() => parts[i + 1],
        _ => parts[0],
    }
}

fn function_configs(
    stack: &Stack,
    settings: &LambdaSettings,
) -> Result<Vec<FunctionConfig>, LambdaSetupError> {
    let functions: Vec<&Resource> = stack.of_type("AWS::Lambda::Function").collect();
    for key in settings.binary_overrides.keys() {
        let known = functions.iter().any(|f| {
            &f.logical_id == key
                || &f.reference == key
                || binary_name(f).ok().flatten().as_deref() == Some(key.as_str())
        });
        if !known {
            return Err(LambdaSetupError::UnknownOverride(key.clone()));
        }
    }
    let mut configs = Vec::new();
    let mut missing = Vec::new();
    for function in &functions {
        let binary_name = binary_name(function)?;
        let overridden = [
            Some(function.logical_id.clone()),
            Some(function.reference.clone()),
            binary_name.clone(),
        ]
        .into_iter()
        .flatten()
        .find_map(|key| settings.binary_overrides.get(&key).cloned());
        let binary = match (overridden, &binary_name) {
            (Some(path), _) => path,
            (None, Some(name)) => settings.functions_dir.join(name),
            (None, None) => {
                return Err(function
                    .error(
                        "Metadata.BuildProperties.Binary",
                        "the function names no binary (Metadata BuildMethod rust-cargolambda with BuildProperties.Binary); give one with --function-binary",
                    )
                    .into());
            }
        };
        if !binary.is_file() {
            missing.push((function, binary.clone(), binary_name.clone()));
        }
        let timeout = function.opt_u64("Timeout")?.unwrap_or(3);
        let memory_mb = function.opt_u64("MemorySize")?.unwrap_or(128);
        let concurrency = match function.opt_u64("ReservedConcurrentExecutions")? {
            Some(0) => {
                return Err(function
                    .error(
                        "ReservedConcurrentExecutions",
                        "0 means the function can never run (Lambda throttles every invocation)",
                    )
                    .into());
            }
            Some(n) => n as usize,
            None => settings.default_concurrency,
        };
        let name = function.reference.clone();
        let arn = stack.attribute(function, "Arn")?;
        configs.push(FunctionConfig {
            logical_id: function.logical_id.clone(),
            environment: environment(stack, function, settings, &name, memory_mb)?,
            name,
            arn,
            binary,
            timeout: Duration::from_secs(timeout),
            memory_mb,
            concurrency,
        });
    }
    if let Some((function, path, _)) = missing.first() {
        let packages = missing
            .iter()
            .filter_map(|(_, _, name)| name.as_ref().map(|n| format!("-p {n}")))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(LambdaSetupError::MissingBinary {
            function: function.reference.clone(),
            resource: function.logical_id.clone(),
            path: path.display().to_string(),
            packages,
        });
    }
    Ok(configs)
}

fn binary_name(function: &Resource) -> Result<Option<String>, TemplateError> {
    match function
        .metadata
        .get("BuildProperties")
        .and_then(|p| p.get("Binary"))
    {
        None => Ok(None),
        Some(Value::String(name)) => Ok(Some(name.clone())),
        Some(other) => Err(function.error(
            "Metadata.BuildProperties.Binary",
            format!("expected a string, found {other}"),
        )),
    }
}

/// The environment Lambda gives a process: the template's variables, then Lambda's reserved ones (which a
/// template cannot override).
fn environment(
    stack: &Stack,
    function: &Resource,
    settings: &LambdaSettings,
    name: &str,
    memory_mb: u64,
) -> Result<Vec<(String, String)>, TemplateError> {
    let mut variables = Vec::new();
    if let Some(map) = function.get("Environment.Variables") {
        let Value::Object(map) = map else {
            return Err(function.error("Environment.Variables", "expected a mapping"));
        };
        for (key, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                other => {
                    return Err(function.error(
                        &format!("Environment.Variables.{key}"),
                        format!("expected a string, found {other}"),
                    ));
                }
            };
            variables.push((key.clone(), text));
        }
    }
    let log_group = function
        .opt_str("LoggingConfig.LogGroup")?
        .map(str::to_string)
        .unwrap_or_else(|| format!("/aws/lambda/{name}"));
    let region = stack.region().to_string();
    let mut reserved = vec![
        ("AWS_REGION", region.clone()),
        ("AWS_DEFAULT_REGION", region),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", log_group),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "local/[$LATEST]local".to_string(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_string()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_rust".to_string()),
        (
            "_HANDLER",
            function
                .opt_str("Handler")?
                .unwrap_or("bootstrap")
                .to_string(),
        ),
        // Credentials are not checked locally; the SDK needs some to sign requests.
        ("AWS_ACCESS_KEY_ID", "LOCALACCESSKEY000000".to_string()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "local-secret-access-key".to_string(),
        ),
        ("AWS_SESSION_TOKEN", "local-session-token".to_string()),
        (
            "AWS_ENDPOINT_URL_DYNAMODB",
            settings.dynamodb_endpoint.clone(),
        ),
        ("TZ", ":UTC".to_string()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("LANG", "en_US.UTF-8".to_string()),
    ];
    if let Some(format) = function.opt_str("LoggingConfig.LogFormat")? {
        reserved.push(("AWS_LAMBDA_LOG_FORMAT", format.to_string()));
        if format == "JSON"
            && let Some(level) = function.opt_str("LoggingConfig.ApplicationLogLevel")?
        {
            reserved.push(("AWS_LAMBDA_LOG_LEVEL", level.to_string()));
        }
    }
    let extra = settings.extra_environment.iter().chain(
        settings
            .function_environment
            .get(&function.logical_id)
            .into_iter()
            .flatten(),
    );
    for (key, value) in extra {
        variables.retain(|(k, _)| k != key);
        variables.push((key.clone(), value.clone()));
    }
    variables.retain(|(key, _)| !reserved.iter().any(|(r, _)| r == key));
    variables.extend(reserved.into_iter().map(|(k, v)| (k.to_string(), v)));
    Ok(variables)
}

impl FunctionPool {
    pub async fn invoke(self: &Arc<Self>, payload: Bytes) -> Outcome {
        self.stats.invocations.fetch_add(1, Ordering::Relaxed);
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::Service {
                error_type: "RequestEntityTooLargeException".into(),
                message: format!(
                    "{} byte payload is too large for the RequestResponse invocation type (limit {MAX_PAYLOAD_BYTES} bytes)",
                    payload.len()
                ),
            });
        }
        let permit = match self.on_limit {
            ConcurrencyLimitPolicy::Queue => self.permits.clone().acquire_owned().await.ok(),
            ConcurrencyLimitPolicy::Throttle => self.permits.clone().try_acquire_owned().ok(),
        };
        let Some(_permit) = permit else {
            self.stats.throttles.fetch_add(1, Ordering::Relaxed);
            return Err(InvokeError::Service {
                error_type: "TooManyRequestsException".into(),
                message: "Rate Exceeded.".into(),
            });
        };
        let (mut environment, cold) = match self.take_idle() {
            Some(environment) => (environment, false),
            None => match self.start_environment().await {
                Ok(environment) => (environment, true),
                Err(message) => {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                    return Err(InvokeError::function("Runtime.InvalidEntrypoint", message));
                }
            },
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let outcome = self
            .run_on(&mut environment, &request_id, payload, cold)
            .await;
        let elapsed = started.elapsed();
        self.stats
            .busy_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        match &outcome {
            Ok(_) => {}
            Err(InvokeError::Function { error_type, .. }) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                match error_type.as_str() {
                    "Sandbox.Timedout" => self.stats.timeouts.fetch_add(1, Ordering::Relaxed),
                    "Runtime.OutOfMemory" => {
                        self.stats.out_of_memory.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => 0,
                };
            }
            Err(InvokeError::Service { .. }) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        tracing::debug!(function = %self.config.name, %request_id, cold, millis = elapsed.as_millis() as u64, ok = outcome.is_ok(), "invocation");
        if !environment.has_exited()
            && !*self.shutdown.borrow()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(environment);
        }
        outcome
    }

    fn take_idle(&self) -> Option<Environment> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(environment) = idle.pop() {
            if !environment.has_exited() {
                return Some(environment);
            }
        }
        None
    }

    /// Delivers one invocation to an environment and waits for its answer, within the init limit and the
    /// function's timeout; kills the process on timeout.
    async fn run_on(
        &self,
        environment: &mut Environment,
        request_id: &str,
        payload: Bytes,
        cold: bool,
    ) -> Outcome {
        let timeout = self.config.timeout;
        let deadline_ms = chrono::Utc::now().timestamp_millis() + timeout.as_millis() as i64;
        let (delivered_tx, delivered_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        let invocation = Invocation {
            request_id: request_id.to_string(),
            payload,
            deadline_ms,
            trace_id: format!(
                "Root=1-{:08x}-{};Parent={};Sampled=0",
                chrono::Utc::now().timestamp(),
                &uuid::Uuid::new_v4().simple().to_string()[..24],
                &uuid::Uuid::new_v4().simple().to_string()[..16]
            ),
            delivered: delivered_tx,
            reply: reply_tx,
        };
        if environment.sender.send(invocation).await.is_err() {
            return Err(self.exit_error(
                request_id,
                &ProcessEnd::Killed("the runtime API of the environment stopped"),
            ));
        }
        let init_started = Instant::now();
        let delivered = tokio::select! {
            delivered = delivered_rx => delivered.is_ok(),
            end = environment.wait_exit() => {
                let init_error = environment.state.init_error.lock().ok().and_then(|mut e| e.take());
                return Err(init_error.unwrap_or_else(|| self.exit_error(request_id, &end)));
            }
            _ = tokio::time::sleep(INIT_TIMEOUT + timeout) => false,
        };
        if cold {
            self.stats
                .init_micros
                .fetch_add(init_started.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
        if !delivered {
            environment.kill_process();
            return Err(InvokeError::function(
                "Runtime.Unknown",
                format!(
                    "RequestId: {request_id} Error: the runtime did not ask for the invocation within its init timeout"
                ),
            ));
        }
        tokio::select! {
            reply = reply_rx => match reply {
                Ok(outcome) => outcome,
                Err(_) => Err(self.exit_error(request_id, &environment.wait_exit().await)),
            },
            end = environment.wait_exit() => {
                Err(self.exit_error(request_id, &end))
            }
            _ = tokio::time::sleep(timeout) => {
                environment.kill_process();
                tracing::warn!(function = %self.config.name, %request_id, "timed out after {} s: process killed", timeout.as_secs());
                Err(InvokeError::function(
                    "Sandbox.Timedout",
                    format!("RequestId: {request_id} Error: Task timed out after {:.2} seconds", timeout.as_secs_f64()),
                ))
            }
        }
    }

    fn exit_error(&self, request_id: &str, end: &ProcessEnd) -> InvokeError {
        match end {
            ProcessEnd::Exited(status) => InvokeError::function(
                "Runtime.ExitError",
                format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
            ),
            ProcessEnd::Killed(why) => InvokeError::function(
                "Runtime.ExitError",
                format!("RequestId: {request_id} Error: Runtime exited with error: {why}"),
            ),
            // Lambda's words, then what the emulator saw (Lambda shows it as "Max Memory Used").
            ProcessEnd::OutOfMemory { peak_mb, limit_mb } => InvokeError::function(
                "Runtime.OutOfMemory",
                format!(
                    "RequestId: {request_id} Error: Runtime exited with error: signal: killed (memory used {peak_mb} MB, over the function's MemorySize of {limit_mb} MB)"
                ),
            ),
        }
    }

    /// Starts a process with its own Runtime API listener.
    async fn start_environment(&self) -> Result<Environment, String> {
        self.stats.cold_starts.fetch_add(1, Ordering::Relaxed);
        let id = self.next_environment.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(1);
        let state = Arc::new(RuntimeApiState {
            function_arn: self.config.arn.clone(),
            queue: tokio::sync::Mutex::new(receiver),
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen for the Runtime API: {e}"))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("cannot listen for the Runtime API: {e}"))?;
        let app = runtime_api_router(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let mut command = tokio::process::Command::new(&self.config.binary);
        command
            .env_clear()
            .envs(self.config.environment.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("LAMBDA_TASK_ROOT", task_root(&self.config.binary))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            server.abort();
            format!("cannot start {}: {e}", self.config.binary.display())
        })?;
        let function = self.config.name.clone();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(forward_logs(function.clone(), id, BufReader::new(stdout)));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(forward_logs(function.clone(), id, BufReader::new(stderr)));
        }
        let (exited_tx, exited) = watch::channel(None);
        let (kill, kill_rx) = oneshot::channel::<()>();
        let mut shutdown = self.shutdown.clone();
        let watched_state = state.clone();
        let limit_mb = self.config.memory_mb;
        let watchdog = memory_exceeded(child.id(), limit_mb, self.stats.max_memory_used_mb.clone());
        tokio::spawn(async move {
            let end = tokio::select! {
                status = child.wait() => ProcessEnd::Exited(status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())),
                _ = kill_rx => {
                    let _ = child.kill().await;
                    ProcessEnd::Killed("killed")
                }
                _ = stopped(&mut shutdown) => {
                    let _ = child.kill().await;
                    ProcessEnd::Killed("killed at shutdown")
                }
                peak_mb = watchdog => {
                    let _ = child.kill().await;
                    tracing::warn!(%function, environment = id, peak_mb, limit_mb, "over its MemorySize: process killed");
                    ProcessEnd::OutOfMemory { peak_mb, limit_mb }
                }
            };
            tracing::debug!(%function, environment = id, ?end, "process ended");
            let _ = exited_tx.send(Some(end));
            // Answers every invocation still waiting on this process.
            if let Ok(mut pending) = watched_state.pending.lock() {
                pending.clear();
            }
        });
        Ok(Environment {
            sender,
            state,
            exited,
            kill: Some(kill),
            server,
        })
    }
}

/// Resolves with the process's peak resident memory (MiB) once it is over `limit_mb`; records the peak
/// in `max_used_mb` on the way. Never resolves where `/proc` is not there to read.
async fn memory_exceeded(pid: Option<u32>, limit_mb: u64, max_used_mb: Arc<AtomicU64>) -> u64 {
    let Some(pid) = pid else {
        return std::future::pending().await;
    };
    let status_path = PathBuf::from(format!("/proc/{pid}/status"));
    let mut ticker = tokio::time::interval(MEMORY_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        // A process that ended (a zombie until it is waited for, so its pid is not reused meanwhile)
        // has no memory lines: the watcher's `wait` arm reports its end.
        let Some(peak_bytes) = tokio::fs::read_to_string(&status_path)
            .await
            .ok()
            .and_then(|status| peak_resident_bytes(&status))
        else {
            return std::future::pending().await;
        };
        let peak_mb = peak_bytes.div_ceil(MIB);
        max_used_mb.fetch_max(peak_mb, Ordering::Relaxed);
        if peak_bytes > limit_mb * MIB {
            return peak_mb;
        }
    }
}

/// `VmHWM` (peak resident set size) of a `/proc/<pid>/status` text, in bytes.
fn peak_resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let mut fields = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => Some(value * 1024),
        _ => None,
    }
}

/// Resolves when the emulator shuts down (never if the sender is gone without saying so).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        if shutdown.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

fn task_root(binary: &Path) -> String {
    binary
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| ".".into())
}

async fn forward_logs<R: tokio::io::AsyncRead + Unpin>(
    function: String,
    environment: u64,
    reader: BufReader<R>,
) {
    let mut lines = reader.lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: "function", %function, environment, "{line}");
    }
}

fn runtime_api_router(state: Arc<RuntimeApiState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(axum::extract::DefaultBodyLimit::max(
            MAX_PAYLOAD_BYTES + 1024,
        ))
        .with_state(state)
}

async fn next_invocation(State(state): State<Arc<RuntimeApiState>>) -> Response {
    let invocation = {
        let mut queue = state.queue.lock().await;
        queue.recv().await
    };
    let Some(invocation) = invocation else {
        return (StatusCode::GONE, "the environment is shutting down").into_response();
    };
    if let Ok(mut pending) = state.pending.lock() {
        pending.insert(invocation.request_id.clone(), invocation.reply);
    }
    let _ = invocation.delivered.send(());
    let mut response = (StatusCode::OK, invocation.payload).into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &invocation.deadline_ms.to_string(),
    );
    set("lambda-runtime-invoked-function-arn", &state.function_arn);
    set("lambda-runtime-trace-id", &invocation.trace_id);
    set("content-type", "application/json");
    response
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

fn unknown_request(id: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "errorMessage": format!("Invalid request ID: {id}"),
            "errorType": "InvalidRequestID",
        })),
    )
        .into_response()
}

async fn invocation_response(
    State(state): State<Arc<RuntimeApiState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let Some(reply) = state.pending.lock().ok().and_then(|mut p| p.remove(&id)) else {
        return unknown_request(&id);
    };
    if body.len() > MAX_PAYLOAD_BYTES {
        let _ = reply.send(Err(InvokeError::function(
            "Function.ResponseSizeTooLarge",
            format!("Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes).", body.len()),
        )));
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(
                json!({"errorMessage": "payload too large", "errorType": "RequestEntityTooLarge"}),
            ),
        )
            .into_response();
    }
    let _ = reply.send(Ok(body));
    accepted()
}

/// The error a function reported: its JSON body, else the error-type header.
fn reported_error(headers: &HeaderMap, body: &[u8]) -> InvokeError {
    let header_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty() && *t != "unhandled")
        .map(str::to_string);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let stack_trace = parsed
        .as_ref()
        .and_then(|p| p.get("stackTrace"))
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(|l| l.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    InvokeError::Function {
        error_type: field("errorType")
            .or(header_type)
            .unwrap_or_else(|| "Unhandled".to_string()),
        error_message: field("errorMessage")
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
        stack_trace,
    }
}

async fn invocation_error(
    State(state): State<Arc<RuntimeApiState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(reply) = state.pending.lock().ok().and_then(|mut p| p.remove(&id)) else {
        return unknown_request(&id);
    };
    let _ = reply.send(Err(reported_error(&headers, &body)));
    accepted()
}

async fn init_error(
    State(state): State<Arc<RuntimeApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let error = reported_error(&headers, &body);
    tracing::warn!(?error, "a function failed its init");
    if let Ok(mut slot) = state.init_error.lock() {
        *slot = Some(error);
    }
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_resident_memory_is_read_from_proc_status() {
        let status =
            "Name:\tbootstrap\nVmPeak:\t  812344 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(peak_resident_bytes(status), Some(20 * MIB));
        // A zombie has no memory lines; an unknown unit is not guessed.
        assert_eq!(
            peak_resident_bytes("Name:\tbootstrap\nState:\tZ (zombie)\n"),
            None
        );
        assert_eq!(peak_resident_bytes("VmHWM:\t 20 MB\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_readable_peak() {
        let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
        assert!(peak_resident_bytes(&status).is_some_and(|bytes| bytes > 0));
    }
}
