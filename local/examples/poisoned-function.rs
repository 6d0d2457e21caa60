//! A test-only wrapper around a real function binary, for the emulator's failure-injection tests (it is
//! not part of the shop and carries no hook into the shop's code).
//!
//! It runs the real binary (`WRAPPED_BINARY`) as a child process behind a Runtime API of its own, and
//! passes every invocation through, except those whose payload's `itemId` starts with
//! `POISONED_ITEM_PREFIX`: these fail with the error type `InjectedFailure` without reaching the real
//! function. The emulator is pointed at it with `--function-binary` and `--env-vars`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

type Answer = Result<Bytes, Value>;

struct Inner {
    queue: tokio::sync::Mutex<mpsc::Receiver<(String, Bytes, oneshot::Sender<Answer>)>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
}

async fn next(State(inner): State<Arc<Inner>>) -> Response {
    let Some((id, payload, reply)) = inner.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    if let Ok(mut pending) = inner.pending.lock() {
        pending.insert(id.clone(), reply);
    }
    let mut response = (StatusCode::OK, payload).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.as_str()),
        ("lambda-runtime-deadline-ms", "99999999999999"),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:wrapped",
        ),
    ] {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    response
}

fn take(inner: &Inner, id: &str) -> Option<oneshot::Sender<Answer>> {
    inner
        .pending
        .lock()
        .ok()
        .and_then(|mut pending| pending.remove(id))
}

async fn respond(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    if let Some(reply) = take(&inner, &id) {
        let _ = reply.send(Ok(body));
    }
    StatusCode::ACCEPTED
}

async fn fail(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    _headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if let Some(reply) = take(&inner, &id) {
        let error =
            serde_json::from_slice(&body).unwrap_or_else(|_| json!({"errorType": "Unhandled"}));
        let _ = reply.send(Err(error));
    }
    StatusCode::ACCEPTED
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let wrapped = std::env::var("WRAPPED_BINARY").map_err(|_| "WRAPPED_BINARY is not set")?;
    let prefix =
        std::env::var("POISONED_ITEM_PREFIX").map_err(|_| "POISONED_ITEM_PREFIX is not set")?;
    let (sender, receiver) = mpsc::channel(1);
    let inner = Arc::new(Inner {
        queue: tokio::sync::Mutex::new(receiver),
        pending: Mutex::new(HashMap::new()),
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
        .with_state(inner);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut child = tokio::process::Command::new(&wrapped)
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .kill_on_drop(true)
        .spawn()?;
    tokio::spawn(async move {
        let status = child.wait().await;
        eprintln!("wrapped function ended: {status:?}");
        std::process::exit(1);
    });

    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let sender = sender.clone();
        let prefix = prefix.clone();
        async move {
            let (payload, context) = event.into_parts();
            let item = payload.get("itemId").and_then(Value::as_str).unwrap_or("");
            if item.starts_with(&prefix) {
                return Err(Diagnostic {
                    error_type: "InjectedFailure".into(),
                    error_message: format!("test fixture: item '{item}' is poisoned"),
                });
            }
            let (reply, answer) = oneshot::channel();
            let bytes = Bytes::from(payload.to_string());
            if sender
                .send((context.request_id, bytes, reply))
                .await
                .is_err()
            {
                return Err(Diagnostic {
                    error_type: "WrapperFailure".into(),
                    error_message: "the wrapped function is gone".into(),
                });
            }
            match answer.await {
                Ok(Ok(body)) => serde_json::from_slice::<Value>(&body).map_err(|e| Diagnostic {
                    error_type: "WrapperFailure".into(),
                    error_message: e.to_string(),
                }),
                Ok(Err(error)) => Err(Diagnostic {
                    error_type: error
                        .get("errorType")
                        .and_then(Value::as_str)
                        .unwrap_or("Unhandled")
                        .to_string(),
                    error_message: error
                        .get("errorMessage")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                }),
                Err(_) => Err(Diagnostic {
                    error_type: "WrapperFailure".into(),
                    error_message: "no answer".into(),
                }),
            }
        }
    });
    lambda_runtime::run(handler).await
}
