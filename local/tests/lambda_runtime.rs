//! The Lambda runtime against real processes: the test-only echo function (local/examples/echo-function.rs,
//! which `cargo test` builds) speaking the Runtime API the emulator serves.

mod echo;

use axum::body::Bytes;
use local::lambda::{ConcurrencyLimitPolicy, InvokeError, LambdaService, LambdaSettings};
use local::template::{DeployContext, Stack};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

fn stack() -> Stack {
    echo::fixture_stack(
        "echo-stack.yaml",
        DeployContext {
            region: "eu-west-3".into(),
            stack_name: "echo".into(),
            parameter_overrides: HashMap::new(),
        },
    )
}

fn service(on_limit: ConcurrencyLimitPolicy) -> LambdaService {
    let settings = echo::lambda_settings(echo::examples_dir(), 4, on_limit);
    LambdaService::from_stack(&stack(), &settings).expect("service")
}

async fn invoke(service: &LambdaService, payload: Value) -> Result<Value, InvokeError> {
    service
        .invoke(&function_name(service), Bytes::from(payload.to_string()))
        .await
        .map(|body| serde_json::from_slice(&body).expect("function answers JSON"))
}

fn function_name(service: &LambdaService) -> String {
    service
        .functions()
        .next()
        .expect("one function")
        .config
        .name
        .clone()
}

#[tokio::test]
async fn a_warm_process_is_reused_and_gets_the_template_environment() {
    let service = service(ConcurrencyLimitPolicy::Queue);
    let name = function_name(&service);
    let first = service
        .invoke(&name, Bytes::from(r#"{"action":"echo","n":1}"#))
        .await
        .expect("answer");
    let first: Value = serde_json::from_slice(&first).expect("json");
    assert_eq!(first["event"], json!({"action": "echo", "n": 1}));
    let env = &first["env"];
    assert_eq!(env["TABLE_NAME"], "echo-table");
    assert_eq!(env["GREETING"], "hello from eu-west-3");
    assert_eq!(
        env["AWS_REGION"], "eu-west-3",
        "reserved variables win over the template"
    );
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_ENDPOINT_URL_DYNAMODB"], "http://127.0.0.1:9");
    assert!(
        env.get("HOME").is_none(),
        "the process gets Lambda's environment, not the emulator's"
    );
    assert_eq!(
        first["functionArn"],
        format!("arn:aws:lambda:eu-west-3:000000000000:function:{name}")
    );
    assert_eq!(first["hasDeadline"], true);

    // By its ARN this time: the same warm process answers.
    let arn = first["functionArn"].as_str().expect("arn").to_string();
    let second = service
        .invoke(&arn, Bytes::from(r#"{"action":"echo"}"#))
        .await
        .expect("answer");
    let second: Value = serde_json::from_slice(&second).expect("json");
    assert_eq!(second["pid"], first["pid"]);
    assert_ne!(second["requestId"], first["requestId"]);
    let pool = service.function(&name).expect("pool");
    assert_eq!(pool.stats.cold_starts.load(Ordering::Relaxed), 1);
    assert_eq!(pool.stats.invocations.load(Ordering::Relaxed), 2);
    service.shutdown();
}

#[tokio::test]
async fn function_errors_keep_their_error_type() {
    let service = service(ConcurrencyLimitPolicy::Queue);
    let error = invoke(
        &service,
        json!({"action": "fail", "errorType": "OutOfStock", "errorMessage": "apple: 0 left"}),
    )
    .await
    .expect_err("fails");
    match error {
        InvokeError::Function {
            error_type,
            error_message,
            ..
        } => {
            assert_eq!(error_type, "OutOfStock");
            assert_eq!(error_message, "apple: 0 left");
        }
        other => panic!("expected a function error, got {other:?}"),
    }
    // The process survives a handled error.
    invoke(&service, json!({"action": "echo"}))
        .await
        .expect("still answers");
    let pool = service.functions().next().expect("pool");
    assert_eq!(pool.stats.cold_starts.load(Ordering::Relaxed), 1);
    service.shutdown();
}

#[tokio::test]
async fn a_timeout_kills_the_process_and_the_next_call_starts_a_new_one() {
    let service = service(ConcurrencyLimitPolicy::Queue);
    let before = invoke(&service, json!({"action": "echo"}))
        .await
        .expect("answer");
    let error = invoke(&service, json!({"action": "sleep", "millis": 30_000}))
        .await
        .expect_err("times out");
    match &error {
        InvokeError::Function {
            error_type,
            error_message,
            ..
        } => {
            assert_eq!(error_type, "Sandbox.Timedout");
            assert!(
                error_message.contains("Task timed out after 2.00 seconds"),
                "{error_message}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let after = invoke(&service, json!({"action": "echo"}))
        .await
        .expect("a new process answers");
    assert_ne!(before["pid"], after["pid"]);
    let pool = service.functions().next().expect("pool");
    assert_eq!(pool.stats.timeouts.load(Ordering::Relaxed), 1);
    assert_eq!(pool.stats.cold_starts.load(Ordering::Relaxed), 2);
    service.shutdown();
}

#[tokio::test]
async fn a_process_over_its_memory_size_is_killed_as_lambda_does() {
    // The fixture's MemorySize is 256 MB and its Timeout 2 s: the allocation is held past the timeout,
    // so only the memory watchdog can end this invocation with anything but Sandbox.Timedout.
    let service = service(ConcurrencyLimitPolicy::Queue);
    let small = invoke(
        &service,
        json!({"action": "allocate", "megabytes": 32, "holdMillis": 100}),
    )
    .await
    .expect("32 MB fit in 256 MB");
    assert_eq!(small["allocated"], 32);
    let error = invoke(
        &service,
        json!({"action": "allocate", "megabytes": 400, "holdMillis": 10_000}),
    )
    .await
    .expect_err("400 MB do not fit");
    match &error {
        InvokeError::Function {
            error_type,
            error_message,
            ..
        } => {
            assert_eq!(error_type, "Runtime.OutOfMemory");
            assert!(
                error_message.contains("Runtime exited with error: signal: killed")
                    && error_message.contains("MemorySize of 256 MB"),
                "{error_message}"
            );
        }
        other => panic!("expected an out-of-memory error, got {other:?}"),
    }
    invoke(&service, json!({"action": "echo"}))
        .await
        .expect("a new process answers");
    let pool = service.functions().next().expect("pool");
    assert_eq!(pool.stats.out_of_memory.load(Ordering::Relaxed), 1);
    assert_eq!(pool.stats.cold_starts.load(Ordering::Relaxed), 2);
    let max_used = pool.stats.max_memory_used_mb.load(Ordering::Relaxed);
    assert!(max_used > 256, "the peak seen was {max_used} MB");
    service.shutdown();
}

#[tokio::test]
async fn a_process_that_dies_is_a_runtime_exit_error() {
    let service = service(ConcurrencyLimitPolicy::Queue);
    let error = invoke(&service, json!({"action": "exit", "code": 3}))
        .await
        .expect_err("dies");
    match &error {
        InvokeError::Function {
            error_type,
            error_message,
            ..
        } => {
            assert_eq!(error_type, "Runtime.ExitError");
            assert!(error_message.contains("exit status: 3"), "{error_message}");
        }
        other => panic!("expected an exit error, got {other:?}"),
    }
    invoke(&service, json!({"action": "echo"}))
        .await
        .expect("a new process answers");
    service.shutdown();
}

#[tokio::test]
async fn concurrency_is_bounded_by_reserved_concurrency() {
    let service = std::sync::Arc::new(service(ConcurrencyLimitPolicy::Queue));
    let calls = (0..6).map(|_| {
        let service = service.clone();
        tokio::spawn(
            async move { invoke(&service, json!({"action": "sleep", "millis": 200})).await },
        )
    });
    for call in futures::future::join_all(calls).await {
        call.expect("task").expect("every queued call is served");
    }
    let pool = service.functions().next().expect("pool");
    assert_eq!(
        pool.stats.cold_starts.load(Ordering::Relaxed),
        2,
        "ReservedConcurrentExecutions is 2"
    );
    service.shutdown();
}

#[tokio::test]
async fn the_throttle_policy_refuses_calls_over_the_limit_as_lambda_does() {
    let service = std::sync::Arc::new(service(ConcurrencyLimitPolicy::Throttle));
    let calls = (0..5).map(|_| {
        let service = service.clone();
        tokio::spawn(
            async move { invoke(&service, json!({"action": "sleep", "millis": 1500})).await },
        )
    });
    let results: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let throttled = results
        .iter()
        .filter(|r| matches!(r, Err(InvokeError::Service { error_type, .. }) if error_type == "TooManyRequestsException"))
        .count();
    let served = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(served + throttled, 5, "{results:?}");
    assert!(served <= 2 && throttled >= 3, "{results:?}");
    service.shutdown();
}

#[test]
fn a_missing_binary_is_a_clear_error_naming_the_build_command() {
    let settings = echo::lambda_settings(
        PathBuf::from("/nonexistent"),
        1,
        ConcurrencyLimitPolicy::Queue,
    );
    let error = LambdaService::from_stack(&stack(), &settings)
        .err()
        .expect("missing binary")
        .to_string();
    assert!(error.contains("/nonexistent/echo-function"), "{error}");
    assert!(error.contains("cargo build -p echo-function"), "{error}");

    let mut overrides = HashMap::new();
    overrides.insert("NoSuchFunction".to_string(), PathBuf::from("/bin/true"));
    let settings = LambdaSettings {
        binary_overrides: overrides,
        ..settings
    };
    let error = LambdaService::from_stack(&stack(), &settings)
        .err()
        .expect("unknown override")
        .to_string();
    assert!(error.contains("NoSuchFunction"), "{error}");
}
