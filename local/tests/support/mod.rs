//! Harness of the end-to-end tests: starts the real `local` binary on free ports and talks to it over HTTP
//! only (the API, the Step Functions endpoint, and DynamoDB's JSON API to read the data back).

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const FUNCTIONS: &[&str] = &[
    "create-store-item",
    "is-item-in-stock",
    "update-item-stock",
    "create-order",
    "confirm-order",
    "cancel-order",
];

/// target/debug (or the profile the tests run in): where the function binaries must be.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    exe.parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .to_path_buf()
}

pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Fails with the command to run when a function binary is missing.
pub fn require_function_binaries() -> PathBuf {
    let dir = target_dir();
    let missing: Vec<&str> = FUNCTIONS
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "the function binaries {missing:?} are missing from {}: build them first with `cargo build {}` (scripts/e2e.sh does it)",
        dir.display(),
        FUNCTIONS
            .iter()
            .map(|f| format!("-p {f}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    dir
}

pub struct Emulator {
    child: Child,
    pub api: String,
    pub states: String,
    pub dynamodb: String,
    pub http: reqwest::Client,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    /// Starts `local` on `template` (relative to the workspace) with extra flags.
    pub fn start(template: &str, extra: &[String]) -> Emulator {
        let functions = require_function_binaries();
        let mut child = Command::new(env!("CARGO_BIN_EXE_local"))
            .current_dir(workspace_dir())
            .args([
                "--template",
                template,
                "--port",
                "0",
                "--log",
                "warn,dynoxide=error",
            ])
            .arg("--functions-dir")
            .arg(&functions)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the local binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => {
                    let status = child.wait();
                    panic!("local exited before it was ready: {status:?}");
                }
            };
            if let Ok(value) = serde_json::from_str::<Value>(&line)
                && value.get("ready") == Some(&Value::Bool(true))
            {
                break value;
            }
        };
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let text = |k: &str| ready[k].as_str().expect("endpoint").to_string();
        Emulator {
            api: text("api"),
            states: text("stepFunctions"),
            dynamodb: text("dynamodb"),
            child,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("client"),
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits for the process to end; its exit status.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -INT failed");
        self.child.wait().expect("the emulator ends")
    }

    pub fn url(&self, route: &str) -> String {
        format!("{}/prod/{route}", self.api)
    }

    /// POST a raw body with a content type; answers (status, body text). Retries 429 (the stage's
    /// throttling) after a pause, as a well-behaved client does.
    pub async fn post_raw(
        &self,
        route: &str,
        content_type: &str,
        body: impl Into<String>,
    ) -> (u16, String) {
        let body: String = body.into();
        let mut pause = Duration::from_millis(100);
        loop {
            let response = self
                .http
                .post(self.url(route))
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .expect("the API answers");
            let status = response.status().as_u16();
            if status != 429 {
                return (status, response.text().await.expect("body"));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    pub async fn post_json(&self, route: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self
            .post_raw(route, "application/json", body.to_string())
            .await;
        let parsed = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{route} answered {status} with non-JSON {text:?}: {e}"));
        (status, parsed)
    }

    pub async fn create_item(&self, item_id: &str, quantity: u64) {
        let (status, body) = self
            .post_json(
                "create-store-item",
                &json!({"itemId": item_id, "quantity": quantity}),
            )
            .await;
        assert_eq!(status, 201, "creating {item_id}: {body}");
    }

    /// Step Functions' JSON protocol.
    pub async fn states_call(&self, action: &str, request: &Value) -> Value {
        let response = self
            .http
            .post(format!("{}/", self.states))
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .header("content-type", "application/x-amz-json-1.0")
            .body(request.to_string())
            .send()
            .await
            .expect("Step Functions answers");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON");
        assert!(status.is_success(), "{action}: {status} {body}");
        body
    }

    /// Polls DescribeExecution until the execution ends.
    pub async fn wait_execution(&self, execution_arn: &str) -> Value {
        loop {
            let described = self
                .states_call("DescribeExecution", &json!({"executionArn": execution_arn}))
                .await;
            if described["status"] != "RUNNING" {
                return described;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// DynamoDB's JSON API (dynoxide checks that a signature is present, not that it is valid).
    pub async fn dynamodb(&self, action: &str, request: &Value) -> Value {
        let response = self
            .http
            .post(&self.dynamodb)
            .header("x-amz-target", format!("DynamoDB_20120810.{action}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-date", "20260101T000000Z")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000",
            )
            .body(request.to_string())
            .send()
            .await
            .expect("DynamoDB answers");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON");
        assert!(status.is_success(), "{action}: {status} {body}");
        body
    }

    pub async fn table(&self) -> String {
        let tables = self.dynamodb("ListTables", &json!({})).await;
        tables["TableNames"][0]
            .as_str()
            .expect("one table")
            .to_string()
    }

    /// Every record of the table, as plain JSON (`{"PK": "...", "stock": 3, ...}`).
    pub async fn scan(&self) -> Vec<Value> {
        let table = self.table().await;
        let mut items = Vec::new();
        let mut start: Option<Value> = None;
        loop {
            let mut request = json!({"TableName": table, "ConsistentRead": true});
            if let Some(key) = start.take() {
                request["ExclusiveStartKey"] = key;
            }
            let page = self.dynamodb("Scan", &request).await;
            items.extend(page["Items"].as_array().into_iter().flatten().map(plain));
            match page.get("LastEvaluatedKey") {
                Some(key) if !key.is_null() => start = Some(key.clone()),
                _ => return items,
            }
        }
    }
}

/// DynamoDB's typed attribute values as plain JSON.
pub fn plain(value: &Value) -> Value {
    if let Some(map) = value.as_object()
        && map.len() == 1
    {
        let (kind, inner) = map.iter().next().expect("one");
        match kind.as_str() {
            "S" => return inner.clone(),
            "N" => {
                return inner
                    .as_str()
                    .and_then(|n| n.parse::<i64>().ok())
                    .map(|n| json!(n))
                    .unwrap_or(Value::Null);
            }
            "BOOL" => return inner.clone(),
            "NULL" => return Value::Null,
            "L" => {
                return Value::Array(inner.as_array().into_iter().flatten().map(plain).collect());
            }
            "M" => return plain_map(inner),
            _ => {}
        }
    }
    plain_map(value)
}

fn plain_map(value: &Value) -> Value {
    match value.as_object() {
        Some(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), plain(v))).collect()),
        None => value.clone(),
    }
}

/// The shop's records, read back from the table.
pub struct Snapshot {
    pub records: Vec<Value>,
}

impl Snapshot {
    pub async fn take(emulator: &Emulator) -> Snapshot {
        Snapshot {
            records: emulator.scan().await,
        }
    }

    pub fn stock(&self, item_id: &str) -> Option<i64> {
        self.records
            .iter()
            .find(|r| r["PK"] == "StoreItem" && r["SK"] == item_id)
            .and_then(|r| r["stock"].as_i64())
    }

    pub fn order(&self, order_id: &str) -> Option<&Value> {
        self.records
            .iter()
            .find(|r| r["PK"] == "Order" && r["SK"] == order_id)
    }

    pub fn orders(&self) -> impl Iterator<Item = &Value> {
        self.records.iter().filter(|r| r["PK"] == "Order")
    }

    /// Reservation markers of one order: (line index, item, quantity).
    pub fn reservations(&self, order_id: &str) -> Vec<(i64, String, i64)> {
        let mut out: Vec<_> = self
            .records
            .iter()
            .filter(|r| r["PK"] == format!("Reservation#{order_id}"))
            .map(|r| {
                (
                    r["lineIndex"].as_i64().unwrap_or(-1),
                    r["itemId"].as_str().unwrap_or("").to_string(),
                    r["quantity"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        out.sort();
        out
    }

    pub fn all_reservations(&self) -> usize {
        self.records
            .iter()
            .filter(|r| {
                r["PK"]
                    .as_str()
                    .is_some_and(|pk| pk.starts_with("Reservation#"))
            })
            .count()
    }
}
