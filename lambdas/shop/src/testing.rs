//! Test and benchmark support (feature `test-support`, never in a Lambda build): a real DynamoDB engine
//! (dynoxide, SQLite in memory) serving HTTP on 127.0.0.1, the real SDK client pointed at it, and a small
//! Lambda Runtime API server to drive a function binary exactly as Lambda does.
//!
//! Panics on setup failures: only tests and benchmarks use it.

use crate::store::Shop;
use crate::table::create_shop_table;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Mutex, mpsc, oneshot};

/// Table name the engine creates.
pub const TEST_TABLE: &str = "shop-test";
/// Region and static credentials the test clients and spawned functions use.
pub const TEST_REGION: &str = "us-east-1";
pub const TEST_ACCESS_KEY: &str = "test-access-key";
pub const TEST_SECRET_KEY: &str = "test-secret-key";

/// A dynoxide engine serving the DynamoDB HTTP API on 127.0.0.1, with the shop's table created.
pub struct Engine {
    pub endpoint: String,
    pub shop: Shop,
    stop: Option<oneshot::Sender<()>>,
}

/// A real SDK client for `endpoint`, with static fake credentials.
pub fn client_for(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(TEST_REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            TEST_ACCESS_KEY,
            TEST_SECRET_KEY,
            None,
            None,
            "shop-testing",
        ))
        .build();
    Client::from_conf(config)
}

impl Engine {
    /// Starts an in-memory engine on a free port of 127.0.0.1 and creates [`TEST_TABLE`].
    pub async fn start() -> Engine {
        let database = dynoxide::Database::memory().expect("in-memory dynoxide database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let address = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(dynoxide::server::serve_with_shutdown(
            listener,
            database,
            async move {
                let _ = stopped.await;
            },
        ));
        let endpoint = format!("http://{address}");
        let client = client_for(&endpoint);
        create_shop_table(&client, TEST_TABLE)
            .await
            .expect("create the shop table");
        Engine {
            endpoint,
            shop: Shop::new(client, TEST_TABLE),
            stop: Some(stop),
        }
    }

    pub fn client(&self) -> &Client {
        self.shop.client()
    }

    /// Every record of the table (a full, paginated scan), for invariant checks.
    pub async fn scan_all(&self) -> Vec<crate::model::Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client()
                .scan()
                .table_name(TEST_TABLE)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan");
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return items,
            }
        }
    }

    /// Environment a function binary needs to reach this engine (plus `TABLE_NAME`).
    pub fn function_environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TABLE_NAME", TEST_TABLE.to_string()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.clone()),
            ("AWS_REGION", TEST_REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What a function posted back for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// `POST /runtime/invocation/{id}/response`: the function's result.
    Response { request_id: String, body: Value },
    /// `POST /runtime/invocation/{id}/error`: `{"errorType", "errorMessage"}`.
    Error { request_id: String, body: Value },
    /// `POST /runtime/init/error`.
    InitError { body: Value },
}

struct RuntimeState {
    events: Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    results: mpsc::UnboundedSender<Invocation>,
    function_arn: String,
}

/// A minimal Lambda Runtime API (the `2018-06-01` interface a custom runtime polls): it hands out queued
/// events on `/next` and reports what the function posts back.
pub struct RuntimeApi {
    pub address: SocketAddr,
    events: mpsc::UnboundedSender<(String, Value)>,
    results: mpsc::UnboundedReceiver<Invocation>,
    next_id: AtomicU64,
    stop: Option<oneshot::Sender<()>>,
}

async fn next_event(State(state): State<Arc<RuntimeState>>) -> impl IntoResponse {
    let mut events = state.events.lock().await;
    let Some((request_id, event)) = events.recv().await else {
        return (StatusCode::GONE, HeaderMap::new(), Bytes::new());
    };
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|now| now.as_millis() + 300_000)
        .unwrap_or(0);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", request_id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        state.function_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
    );
    (StatusCode::OK, headers, Bytes::from(event.to_string()))
}

fn json_body(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn invocation_response(
    State(state): State<Arc<RuntimeState>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let body = json_body(&body);
    let _ = state
        .results
        .send(Invocation::Response { request_id, body });
    StatusCode::ACCEPTED
}

async fn invocation_error(
    State(state): State<Arc<RuntimeState>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let body = json_body(&body);
    let _ = state.results.send(Invocation::Error { request_id, body });
    StatusCode::ACCEPTED
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> StatusCode {
    let body = json_body(&body);
    let _ = state.results.send(Invocation::InitError { body });
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    /// Starts the Runtime API on a free port of 127.0.0.1.
    pub async fn start(function_name: &str) -> RuntimeApi {
        let (events, queued) = mpsc::unbounded_channel();
        let (results_sender, results) = mpsc::unbounded_channel();
        let state = Arc::new(RuntimeState {
            events: Mutex::new(queued),
            results: results_sender,
            function_arn: format!(
                "arn:aws:lambda:{TEST_REGION}:123456789012:function:{function_name}"
            ),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_event))
            .route(
                "/2018-06-01/runtime/invocation/{request_id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{request_id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let address = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        RuntimeApi {
            address,
            events,
            results,
            next_id: AtomicU64::new(1),
            stop: Some(stop),
        }
    }

    /// Queues one event; returns its request id.
    pub fn invoke(&self, event: Value) -> String {
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let _ = self.events.send((request_id.clone(), event));
        request_id
    }

    /// The next thing a function posted back; `None` if the server is gone.
    pub async fn next_result(&mut self) -> Option<Invocation> {
        self.results.recv().await
    }

    /// Environment that points a function binary at this Runtime API (what Lambda sets).
    pub fn function_environment(&self, function_name: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_string()),
        ]
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The command that starts a function binary as Lambda would, against `runtime` and `engine`, with a
/// clean environment (nothing from the test's own environment leaks in).
pub fn function_command(
    binary: &std::path::Path,
    function_name: &str,
    runtime: &RuntimeApi,
    engine: &Engine,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary);
    command
        .env_clear()
        .envs(runtime.function_environment(function_name))
        .envs(engine.function_environment())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// A function binary running against its own Runtime API and `engine`: [`WireFunction::call`] sends an
/// event through the Runtime API and returns what the binary posted back.
pub struct WireFunction {
    pub runtime: RuntimeApi,
    child: tokio::process::Child,
}

/// Longest wait for one answer before the test gives up (a guard against a hang, not a speed check).
const ANSWER_GUARD: std::time::Duration = std::time::Duration::from_secs(120);

impl WireFunction {
    /// Starts `binary` (its logs are discarded unless `SHOP_TEST_FUNCTION_LOGS` is set).
    pub async fn start(
        binary: &std::path::Path,
        function_name: &str,
        engine: &Engine,
    ) -> WireFunction {
        let runtime = RuntimeApi::start(function_name).await;
        let mut command = function_command(binary, function_name, &runtime, engine);
        if std::env::var_os("SHOP_TEST_FUNCTION_LOGS").is_none() {
            command
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
        }
        let child = command.spawn().expect("start the function binary");
        WireFunction { runtime, child }
    }

    /// Invokes the function once through the Runtime API.
    pub async fn call(&mut self, event: Value) -> Invocation {
        let request_id = self.runtime.invoke(event);
        let answer = tokio::time::timeout(ANSWER_GUARD, async {
            tokio::select! {
                result = self.runtime.next_result() => result.expect("the runtime API is running"),
                status = self.child.wait() => panic!("the function exited before answering: {status:?}"),
            }
        })
        .await
        .expect("the function answers");
        match &answer {
            Invocation::Response { request_id: id, .. }
            | Invocation::Error { request_id: id, .. } => {
                assert_eq!(id, &request_id, "the answer is for the invocation sent")
            }
            Invocation::InitError { .. } => {}
        }
        answer
    }
}
