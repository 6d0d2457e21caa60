//! Load tool for the local emulator: N orders with C concurrent clients, end to end.
//!
//!   cargo run -p local --example load -- --api http://127.0.0.1:3000 --states http://127.0.0.1:PORT \
//!       --orders 400 --clients 20
//!
//! Creates a few products with plenty of stock (so every order can succeed), then each client places
//! orders one after the other. For the Standard workflow (202) an order ends when DescribeExecution says
//! so (polled every 20 ms); for the Express one (`--express`, 200/409) the response is the end. Prints
//! orders per second, p50/p99 of the end-to-end latency and of the API's own answer, and the emulator's
//! counters from /_local/stats (where the time went).

use serde_json::{Value, json};
use std::time::{Duration, Instant};

struct Args {
    api: String,
    states: Option<String>,
    orders: usize,
    clients: usize,
    express: bool,
    stage: String,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        api: "http://127.0.0.1:3000".into(),
        states: None,
        orders: 200,
        clients: 10,
        express: false,
        stage: "prod".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--api" => args.api = value()?,
            "--states" => args.states = Some(value()?),
            "--orders" => args.orders = value()?.parse().map_err(|e| format!("--orders: {e}"))?,
            "--clients" => args.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--stage" => args.stage = value()?,
            "--express" => args.express = true,
            "--help" | "-h" => return Err("usage: load --api URL [--states URL] [--orders N] [--clients C] [--express] [--stage prod]".into()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if !args.express && args.states.is_none() {
        return Err("the Standard workflow needs --states URL (the Step Functions endpoint the banner prints) to follow executions".into());
    }
    Ok(args)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn describe(http: &reqwest::Client, states: &str, arn: &str) -> Result<Value, String> {
    http.post(format!("{states}/"))
        .header("x-amz-target", "AWSStepFunctions.DescribeExecution")
        .body(json!({"executionArn": arn}).to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

/// One order: (API answer time, end-to-end time, succeeded).
async fn one_order(
    http: &reqwest::Client,
    args: &Args,
    products: &[String],
    n: usize,
) -> Result<(Duration, Duration, bool), String> {
    let lines: Vec<Value> = (0..1 + n % 3)
        .map(|i| json!({"itemId": products[(n + i) % products.len()], "quantity": 1}))
        .collect();
    let started = Instant::now();
    // The stage's throttling answers 429 over its rate: retry after a pause, as a client should.
    let response = loop {
        let response = http
            .post(format!("{}/{}/create-order", args.api, args.stage))
            .header("content-type", "application/json")
            .body(Value::Array(lines.clone()).to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().as_u16() != 429 {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status = response.status().as_u16();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    let answered = started.elapsed();
    if args.express {
        return Ok((answered, answered, status == 200));
    }
    if status != 202 {
        return Ok((answered, answered, false));
    }
    let arn = body["executionArn"].as_str().ok_or("no executionArn")?;
    let states = args.states.as_deref().unwrap_or_default();
    loop {
        let described = describe(http, states, arn).await?;
        if described["status"] != "RUNNING" {
            return Ok((
                answered,
                started.elapsed(),
                described["status"] == "SUCCEEDED",
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = std::sync::Arc::new(args()?);
    let http = reqwest::Client::new();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let products: Vec<String> = (0..5).map(|i| format!("load-{}-{i}", &run[..8])).collect();
    for product in &products {
        let response = http
            .post(format!("{}/{}/create-store-item", args.api, args.stage))
            .header("content-type", "application/json")
            .body(json!({"itemId": product, "quantity": 1_000_000}).to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().as_u16() != 201 {
            return Err(format!("creating {product}: {}", response.status()));
        }
    }
    // Warm every function up once so the figures are warm-path figures (cold starts are counted apart).
    one_order(&http, &args, &products, 2).await?;

    let before: Value = http
        .get(format!("{}/_local/stats", args.api))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let clients = (0..args.clients).map(|_| {
        let (http, args, products, next) =
            (http.clone(), args.clone(), products.clone(), next.clone());
        tokio::spawn(async move {
            let mut results = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= args.orders {
                    return results;
                }
                results.push(one_order(&http, &args, &products, n).await);
            }
        })
    });
    let mut answered = Vec::new();
    let mut ended = Vec::new();
    let mut failures = 0;
    for client in futures::future::join_all(clients).await {
        for result in client.map_err(|e| e.to_string())? {
            let (a, e, ok) = result?;
            answered.push(a);
            ended.push(e);
            if !ok {
                failures += 1;
            }
        }
    }
    let wall = started.elapsed();
    let after: Value = http
        .get(format!("{}/_local/stats", args.api))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    answered.sort();
    ended.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "{} orders ({} workflow), {} clients: {:.1} orders/s end to end, {failures} not succeeded",
        args.orders,
        if args.express { "Express" } else { "Standard" },
        args.clients,
        args.orders as f64 / wall.as_secs_f64()
    );
    println!(
        "  end to end    p50 {}  p99 {}",
        ms(percentile(&ended, 0.5)),
        ms(percentile(&ended, 0.99))
    );
    println!(
        "  API answer    p50 {}  p99 {}",
        ms(percentile(&answered, 0.5)),
        ms(percentile(&answered, 0.99))
    );
    let delta = |path: &[&str]| {
        let get = |v: &Value| {
            path.iter()
                .fold(v.clone(), |v, k| v[*k].clone())
                .as_f64()
                .unwrap_or(0.0)
        };
        get(&after) - get(&before)
    };
    let orders = args.orders as f64;
    println!("  per order (means over the run):");
    println!(
        "    gateway validation (JSON Schema) {:.3} ms",
        delta(&["gateway", "validationMillis"]) / orders
    );
    println!(
        "    gateway VTL (request + response)  {:.3} ms",
        delta(&["gateway", "vtlMillis"]) / orders
    );
    println!(
        "    execution wall time              {:.1} ms, {:.1} state transitions",
        delta(&["executions", "totalMillis"]) / orders,
        delta(&["executions", "stateTransitions"]) / orders
    );
    for (i, function) in after["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = function["logicalId"].as_str().unwrap_or("?");
        let invocations = function["invocations"].as_f64().unwrap_or(0.0)
            - before["functions"][i]["invocations"]
                .as_f64()
                .unwrap_or(0.0);
        let busy = function["busyMillis"].as_f64().unwrap_or(0.0)
            - before["functions"][i]["busyMillis"].as_f64().unwrap_or(0.0);
        let cold = function["coldStarts"].as_f64().unwrap_or(0.0)
            - before["functions"][i]["coldStarts"].as_f64().unwrap_or(0.0);
        if invocations > 0.0 {
            println!(
                "    {name:<24} {invocations:>6} invocations, {:.2} ms each (Runtime API round trip incl. DynamoDB), {cold} cold starts, max memory {} of {} MB",
                busy / invocations,
                function["maxMemoryUsedMB"],
                function["memorySizeMB"]
            );
        }
    }
    Ok(())
}
