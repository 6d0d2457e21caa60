//! A test function for the emulator's Lambda runtime (not part of the shop): what it does is chosen by
//! the payload, so tests can exercise answers, errors, timeouts and crashes through the real Runtime API.
//!
//! - `{"action": "echo", ...}` answers `{"event": <payload>, "env": {...selected variables}, "pid": N}`
//! - `{"action": "fail", "errorType": "X", "errorMessage": "m"}` fails with that error type
//! - `{"action": "sleep", "millis": N}` sleeps then answers
//! - `{"action": "exit", "code": N}` ends the process mid-invocation
//! - `{"action": "big", "bytes": N}` answers a string of N bytes
//! - `{"action": "allocate", "megabytes": N, "holdMillis": M}` fills N MiB of memory, keeps it M ms, answers
//! - an API Gateway proxy event (it has `requestContext`) answers a proxy response whose body is the event;
//!   with `?shape=base64` a base64 body, with `?shape=broken` a malformed response

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[derive(Debug)]
struct Failure {
    error_type: String,
    message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Diagnostic {
        Diagnostic {
            error_type: failure.error_type,
            error_message: failure.message,
        }
    }
}

const SHOWN_VARIABLES: &[&str] = &[
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_REGION",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "TABLE_NAME",
    "GREETING",
    "AWS_ACCESS_KEY_ID",
    "HOME",
];

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Failure> {
    let (payload, context) = event.into_parts();
    let text = |key: &str| {
        payload
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let number = |key: &str| payload.get(key).and_then(Value::as_u64).unwrap_or(0);
    if payload.get("requestContext").is_some() {
        return Ok(proxy_answer(&payload));
    }
    match text("action").as_str() {
        "fail" => Err(Failure {
            error_type: text("errorType"),
            message: text("errorMessage"),
        }),
        "sleep" => {
            tokio::time::sleep(std::time::Duration::from_millis(number("millis"))).await;
            Ok(json!({"slept": number("millis")}))
        }
        "exit" => std::process::exit(number("code") as i32),
        "big" => Ok(Value::String("x".repeat(number("bytes") as usize))),
        "allocate" => {
            // Written, not just reserved: untouched pages would not count as resident memory.
            let filled = vec![0x5a_u8; number("megabytes") as usize * 1024 * 1024];
            tokio::time::sleep(std::time::Duration::from_millis(number("holdMillis"))).await;
            Ok(
                json!({"allocated": number("megabytes"), "check": filled.iter().step_by(4096).map(|b| *b as u64).sum::<u64>()}),
            )
        }
        _ => {
            let env: serde_json::Map<String, Value> = SHOWN_VARIABLES
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), json!(v))))
                .collect();
            Ok(json!({
                "event": payload,
                "env": env,
                "pid": std::process::id(),
                "requestId": context.request_id,
                "functionArn": context.invoked_function_arn,
                "hasDeadline": context.deadline > 0,
            }))
        }
    }
}

fn proxy_answer(event: &Value) -> Value {
    match event["queryStringParameters"]["shape"].as_str() {
        Some("base64") => {
            json!({"statusCode": 200, "isBase64Encoded": true, "body": "aGVsbG8gYnl0ZXM=",
            "headers": {"content-type": "application/octet-stream"}})
        }
        Some("broken") => json!({"statusCode": "not a status", "body": {"not": "a string"}}),
        _ => json!({
            "statusCode": 201,
            "headers": {"x-echo": "yes"},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
            "body": event.to_string(),
        }),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(handle)).await
}
