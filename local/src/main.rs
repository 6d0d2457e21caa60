//! `local`: runs a CloudFormation template of the shop offline (API Gateway, Step Functions, Lambda and
//! DynamoDB on one machine). See local/README.md.

use anyhow::{Context as _, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Parser;
use local::apigw::{ApiGateway, MAX_BODY_BYTES};
use local::dynamodb::DynamoService;
use local::lambda::{ConcurrencyLimitPolicy, LambdaService, LambdaSettings};
use local::states::StatesService;
use local::template::{DeployContext, Stack};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// Serve a CloudFormation template locally: its REST API, state machines, functions and tables.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The template (YAML or JSON) that `synth` writes.
    #[arg(long, default_value = "templates/template.yaml")]
    template: PathBuf,
    /// Port of the API Gateway endpoint on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Port of the Step Functions endpoint (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    states_port: u16,
    /// Keep the DynamoDB data in this SQLite file across runs (default: in memory).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Region of every ARN and of the functions' AWS_REGION.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Stack name (generated physical names start with it).
    #[arg(long, default_value = "local")]
    stack_name: String,
    /// A template parameter, NAME=VALUE (repeatable).
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    parameters: Vec<String>,
    /// Where the functions' binaries are (each function's Metadata.BuildProperties.Binary).
    #[arg(long, default_value = "target/debug")]
    functions_dir: PathBuf,
    /// Run another binary for one function: FUNCTION=PATH, FUNCTION a logical id, name or binary name.
    #[arg(long = "function-binary", value_name = "FUNCTION=PATH")]
    function_binaries: Vec<String>,
    /// Extra environment variables for functions, in SAM's env-vars format:
    /// {"LogicalId": {"NAME": "value"}, "Parameters": {"NAME": "value for every function"}}.
    #[arg(long, value_name = "FILE")]
    env_vars: Option<PathBuf>,
    /// Execution environments per function when the template sets no ReservedConcurrentExecutions.
    #[arg(long, default_value_t = 10)]
    max_concurrency: usize,
    /// At a function's concurrency limit: queue the invocation, or throttle it as Lambda does.
    #[arg(long, value_enum, default_value_t = ConcurrencyLimitPolicy::Queue)]
    on_concurrency_limit: ConcurrencyLimitPolicy,
    /// Do not enforce the stages' MethodSettings throttling (API Gateway answers 429 over the limits).
    #[arg(long)]
    no_stage_throttling: bool,
    /// Log filter (tracing EnvFilter syntax), e.g. `info`, `debug`, `warn,api=info`.
    #[arg(long, default_value = "info,dynoxide=error")]
    log: String,
}

fn split_pair(text: &str, flag: &str) -> anyhow::Result<(String, String)> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => bail!("{flag} {text:?}: expected NAME=VALUE"),
    }
}

/// SAM's env-vars file: per logical id, and `Parameters` for every function.
fn read_env_vars(path: &PathBuf) -> anyhow::Result<HashMap<String, Vec<(String, String)>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --env-vars {}", path.display()))?;
    let parsed: Value = serde_json::from_str(&text)
        .with_context(|| format!("--env-vars {} is not JSON", path.display()))?;
    let Value::Object(groups) = parsed else {
        bail!(
            "--env-vars {}: expected an object of objects",
            path.display()
        );
    };
    let mut out = HashMap::new();
    for (group, variables) in groups {
        let Value::Object(variables) = variables else {
            bail!(
                "--env-vars {}: {group} must be an object of variables",
                path.display()
            );
        };
        let list = variables
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect();
        out.insert(group, list);
    }
    Ok(out)
}

struct App {
    gateway: ApiGateway,
    lambda: Arc<LambdaService>,
    states: Arc<StatesService>,
}

async fn gateway_request(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    app.gateway.handle(method, uri, headers, body, peer).await
}

async fn stats(State(app): State<Arc<App>>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &app.states.stats;
    let g = &app.gateway.stats;
    axum::Json(json!({
        "gateway": {
            "requests": g.requests.load(Relaxed),
            "validationMillis": g.validation_micros.load(Relaxed) as f64 / 1000.0,
            "vtlMillis": g.vtl_micros.load(Relaxed) as f64 / 1000.0,
        },
        "functions": app.lambda.stats(),
        "executions": {
            "started": s.started.load(Relaxed),
            "succeeded": s.succeeded.load(Relaxed),
            "failed": s.failed.load(Relaxed),
            "stateTransitions": s.transitions.load(Relaxed),
            "totalMillis": s.execution_micros.load(Relaxed) / 1000,
        },
    }))
    .into_response()
}

/// Step Functions' JSON protocol: `X-Amz-Target: AWSStepFunctions.<Action>`.
async fn states_request(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(action) = target.strip_prefix("AWSStepFunctions.") else {
        let body = json!({"__type": "UnknownOperationException", "message": "expected X-Amz-Target: AWSStepFunctions.<Action>"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    };
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(e) => {
                let body = json!({"__type": "SerializationException", "message": e.to_string()});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
        }
    };
    let result = app.states.call(action, request).await;
    let (status, body) = match result {
        Ok(answer) => (StatusCode::OK, answer),
        Err(error) => (
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
            error.body(),
        ),
    };
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn banner(
    cli: &Cli,
    app: &App,
    api: SocketAddr,
    states: SocketAddr,
    dynamo: &DynamoService,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "local: serving {} (region {}, account 000000000000)\n\n",
        cli.template.display(),
        cli.region
    ));
    out.push_str(&format!("API Gateway    http://{api}\n"));
    for route in app.gateway.routes() {
        let url = format!("http://{api}/{}{}", route.stage, route.path);
        out.push_str(&format!(
            "  {:6} {url}  ({})\n",
            route.method, route.integration
        ));
        let example = if route.path.contains("store-item") {
            r#"{"itemId": "apple", "quantity": 10}"#
        } else if route.path.contains("order") {
            r#"[{"itemId": "apple", "quantity": 2}]"#
        } else {
            "{}"
        };
        out.push_str(&format!(
            "         curl -s -X {} {url} -H 'content-type: application/json' -d '{example}'\n",
            route.method
        ));
    }
    out.push_str(&format!(
        "\nStep Functions http://{states}   (AWS JSON protocol)\n"
    ));
    for machine in app.states.machines() {
        out.push_str(&format!(
            "  {} {}\n",
            machine.arn,
            if machine.machine_type == local::states::MachineType::Express {
                "(EXPRESS)"
            } else {
                "(STANDARD)"
            }
        ));
    }
    out.push_str(&format!(
        "  aws stepfunctions list-executions --endpoint-url http://{states} --state-machine-arn ARN\n  aws stepfunctions describe-execution --endpoint-url http://{states} --execution-arn ARN\n"
    ));
    out.push_str(&format!(
        "\nDynamoDB       {}   ({})\n",
        dynamo.endpoint(),
        match &cli.data {
            Some(p) => format!("data in {}", p.display()),
            None => "in memory".to_string(),
        }
    ));
    for table in &dynamo.tables {
        out.push_str(&format!(
            "  aws dynamodb scan --endpoint-url {} --region {} --table-name {table}\n",
            dynamo.endpoint(),
            cli.region
        ));
    }
    out.push_str("\nLambda\n");
    let mut functions: Vec<_> = app.lambda.functions().collect();
    functions.sort_by(|a, b| a.config.logical_id.cmp(&b.config.logical_id));
    for function in functions {
        out.push_str(&format!(
            "  {} -> {} (timeout {} s, concurrency {})\n",
            function.config.name,
            function.config.binary.display(),
            function.config.timeout.as_secs(),
            function.config.concurrency
        ));
    }
    out.push_str(&format!(
        "\nCounters: curl -s http://{api}/_local/stats   Stop: Ctrl-C\n"
    ));
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .with_context(|| format!("--log {:?}", cli.log))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let mut parameter_overrides = HashMap::new();
    for pair in &cli.parameters {
        let (k, v) = split_pair(pair, "--parameter")?;
        parameter_overrides.insert(k, v);
    }
    let context = DeployContext {
        region: cli.region.clone(),
        stack_name: cli.stack_name.clone(),
        parameter_overrides,
    };
    let stack = Stack::load(&cli.template, context)?;

    let (stop, stopped) = watch::channel(false);
    let wait_stop = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let dynamo =
        DynamoService::start(&stack, cli.data.as_deref(), wait_stop(stopped.clone())).await?;

    let mut binary_overrides = HashMap::new();
    for pair in &cli.function_binaries {
        let (k, v) = split_pair(pair, "--function-binary")?;
        binary_overrides.insert(k, PathBuf::from(v));
    }
    let env_vars = match &cli.env_vars {
        Some(path) => read_env_vars(path)?,
        None => HashMap::new(),
    };
    let settings = LambdaSettings {
        functions_dir: cli.functions_dir.clone(),
        binary_overrides,
        default_concurrency: cli.max_concurrency.max(1),
        on_limit: cli.on_concurrency_limit,
        dynamodb_endpoint: dynamo.endpoint(),
        extra_environment: env_vars.get("Parameters").cloned().unwrap_or_default(),
        function_environment: env_vars,
    };
    let lambda = Arc::new(LambdaService::from_stack(&stack, &settings)?);
    let states = Arc::new(StatesService::from_stack(&stack, lambda.clone())?);
    let gateway = ApiGateway::from_stack(
        &stack,
        lambda.clone(),
        states.clone(),
        !cli.no_stage_throttling,
    )?;
    let app = Arc::new(App {
        gateway,
        lambda: lambda.clone(),
        states,
    });

    let api_listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} (choose another with --port, 0 for any free port)",
                cli.port
            )
        })?;
    let api_address = api_listener.local_addr()?;
    let states_listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.states_port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} for Step Functions",
                cli.states_port
            )
        })?;
    let states_address = states_listener.local_addr()?;

    let api_router = Router::new()
        .route("/_local/stats", get(stats))
        .fallback(gateway_request)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .with_state(app.clone());
    let states_router = Router::new()
        .route("/", post(states_request))
        .with_state(app.clone());

    println!(
        "{}",
        banner(&cli, &app, api_address, states_address, &dynamo)
    );
    // One machine-readable line for scripts and tests.
    println!(
        "{}",
        json!({"ready": true, "api": format!("http://{api_address}"), "stepFunctions": format!("http://{states_address}"), "dynamodb": dynamo.endpoint(), "region": cli.region})
    );

    let api_server = axum::serve(
        api_listener,
        api_router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(wait_stop(stopped.clone()));
    let states_server = axum::serve(states_listener, states_router)
        .with_graceful_shutdown(wait_stop(stopped.clone()));
    let api_task = tokio::spawn(async move { api_server.await });
    let states_task = tokio::spawn(async move { states_server.await });

    shutdown_signal().await;
    eprintln!(
        "local: shutting down (stopping the function processes{})",
        if cli.data.is_some() {
            ", closing the data file"
        } else {
            ""
        }
    );
    lambda.shutdown();
    let _ = stop.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let _ = api_task.await;
        let _ = states_task.await;
    })
    .await;
    drop(dynamo);
    Ok(())
}
