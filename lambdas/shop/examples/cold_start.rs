//! Cold start of each function binary: from process start to the first response it posts to a Lambda
//! Runtime API, with one event queued before the process starts and a real engine behind it; then the
//! latency of warm invocations on the same process (event queued → response posted). Each run is a
//! fresh process (what Lambda does for a new execution environment, minus downloading the zip and
//! starting the micro-VM, which this cannot measure).
//!
//! ```sh
//! cargo build --release -p create-store-item -p is-item-in-stock -p update-item-stock \
//!     -p create-order -p confirm-order -p cancel-order
//! cargo run -p shop --example cold_start -- target/release 20 20   # dir, processes, warm calls each
//! ```

use serde_json::{Value, json};
use shop::testing::{Engine, Invocation, RuntimeApi, function_command};
use shop_contract::{LineRequest, OrderLine, OrderRequest, names};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An event each function answers with a success, made fresh for run `run`.
async fn event_for(function: &str, run: usize, engine: &Engine) -> Value {
    let order_id = format!("{function}-{run}");
    let apple = || {
        vec![OrderLine {
            item_id: "apple".into(),
            quantity: 1,
        }]
    };
    match function {
        names::CREATE_STORE_ITEM => {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/apigw/create_store_item.json"
            );
            let mut event: Value =
                serde_json::from_str(&std::fs::read_to_string(path).expect("fixture"))
                    .expect("JSON");
            event["body"] = Value::String(json!({"itemId": order_id, "quantity": 5}).to_string());
            event
        }
        names::IS_ITEM_IN_STOCK | names::UPDATE_ITEM_STOCK => {
            json!({"orderId": order_id, "lineIndex": 0, "itemId": "apple", "quantity": 1})
        }
        names::CREATE_ORDER | names::CANCEL_ORDER => json!({"orderId": order_id, "lines": apple()}),
        names::CONFIRM_ORDER => {
            let shop = &engine.shop;
            shop.create_order(&OrderRequest {
                order_id: order_id.clone(),
                lines: apple(),
            })
            .await
            .expect("order");
            let line = LineRequest {
                order_id: order_id.clone(),
                line_index: 0,
                item_id: "apple".into(),
                quantity: 1,
            };
            shop.reserve_line(&line).await.expect("reserved");
            json!({"orderId": order_id})
        }
        other => panic!("unknown function {other}"),
    }
}

/// One fresh process: the time to its first response, then the time of each of `warm` further
/// invocations (event queued → response received) on the same process.
async fn one_execution_environment(
    binary: &Path,
    function: &str,
    run: usize,
    warm: usize,
    engine: &Engine,
) -> (Duration, Vec<Duration>) {
    let mut runtime = RuntimeApi::start(function).await;
    runtime.invoke(event_for(function, run * 10_000, engine).await);
    let mut command = function_command(binary, function, &runtime, engine);
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let started = Instant::now();
    let mut child = command.spawn().expect("start the binary");
    let answer = runtime.next_result().await.expect("an answer");
    let cold = started.elapsed();
    check(function, answer);
    let mut warm_times = Vec::with_capacity(warm);
    for invocation in 1..=warm {
        let event = event_for(function, run * 10_000 + invocation, engine).await;
        let sent = Instant::now();
        runtime.invoke(event);
        let answer = runtime.next_result().await.expect("an answer");
        warm_times.push(sent.elapsed());
        check(function, answer);
    }
    let _ = child.kill().await;
    (cold, warm_times)
}

fn check(function: &str, answer: Invocation) {
    match answer {
        Invocation::Response { body, .. } => {
            if function == names::CREATE_STORE_ITEM {
                assert_eq!(body["statusCode"], 201, "{body}");
            }
        }
        other => panic!("{function} failed: {other:?}"),
    }
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let directory = PathBuf::from(
        arguments
            .next()
            .unwrap_or_else(|| "target/release".to_string()),
    );
    let runs: usize = arguments.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let warm: usize = arguments.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let engine = Engine::start().await;
    engine
        .shop
        .create_store_item("apple", 1_000_000_000)
        .await
        .expect("seed");

    println!("{runs} fresh processes per function, {warm} warm invocations after each first one");
    println!();
    println!(
        "| function | cold start median | cold min | cold max | warm invocation median | binary size |"
    );
    println!("|---|---|---|---|---|---|");
    for function in names::ALL_FUNCTIONS {
        let binary = directory.join(function);
        let size = std::fs::metadata(&binary)
            .unwrap_or_else(|e| panic!("{binary:?}: {e} (build the release binaries first)"))
            .len();
        let mut cold_times = Vec::with_capacity(runs);
        let mut warm_times = Vec::with_capacity(runs * warm);
        for run in 0..runs {
            let (cold, warm_run) =
                one_execution_environment(&binary, function, run, warm, &engine).await;
            cold_times.push(cold);
            warm_times.extend(warm_run);
        }
        cold_times.sort();
        warm_times.sort();
        println!(
            "| {function} | {} | {} | {} | {} | {:.1} MiB |",
            millis(median(&cold_times)),
            millis(cold_times[0]),
            millis(cold_times[cold_times.len() - 1]),
            if warm_times.is_empty() {
                "-".to_string()
            } else {
                millis(median(&warm_times))
            },
            size as f64 / (1024.0 * 1024.0)
        );
    }
}
