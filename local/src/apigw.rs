//! API Gateway (REST APIs, v1) as the template describes it, served on 127.0.0.1 under `/{stage}/...` like
//! the real invoke URL.
//!
//! What the gateway answers by itself is what AWS answers (gateway responses):
//! - the root of the invoke URL (no stage): 403 `{"message":"Forbidden"}`;
//! - an unknown stage, an unknown resource path, or a method the resource does not have: 403
//!   `{"message":"Missing Authentication Token"}` (REST APIs never answer 404/405 themselves: they do not
//!   reveal which paths exist);
//! - a body that fails the method's request validator: 400 `{"message": "Invalid request body"}`;
//! - no request template for the Content-Type with `PassthroughBehavior: NEVER` (or `WHEN_NO_TEMPLATES`
//!   when there are templates): 415 `{"message": "Unsupported Media Type"}`;
//! - a Lambda proxy integration whose function fails or answers a malformed response: 502
//!   `{"message": "Internal server error"}`; missing Lambda permission, a failing mapping template or no
//!   matching integration response: 500 `{"message": "Internal server error"}`; an integration slower than
//!   its `TimeoutInMillis` (29 s by default): 504 `{"message": "Endpoint request timed out"}`;
//! - a body over 10 MB: 413 `{"message":"Request Too Long"}`.

use crate::iam::{RolePolicy, wildcard_match};
use crate::lambda::{InvokeError, LambdaService, function_name_of};
use crate::states::StatesService;
use crate::template::{ACCOUNT_ID, Resource, Stack, TemplateError};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
const DEFAULT_INTEGRATION_TIMEOUT: Duration = Duration::from_millis(29_000);

#[derive(Debug, thiserror::Error)]
pub enum ApiSetupError {
    #[error(transparent)]
    Template(#[from] TemplateError),
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

struct Route {
    resource_id: String,
    /// The resource path template, e.g. `/things/{id}`.
    path: String,
    segments: Vec<Segment>,
    methods: IndexMap<String, Arc<ApiMethod>>,
}

struct ApiMethod {
    logical_id: String,
    validate_body: bool,
    validate_parameters: bool,
    models: IndexMap<String, Arc<jsonschema::Validator>>,
    required_parameters: Vec<String>,
    integration: Integration,
}

enum Integration {
    LambdaProxy {
        function: String,
        credentials: Option<RolePolicy>,
        timeout: Duration,
    },
    StepFunctions {
        action: String,
        credentials: Option<RolePolicy>,
        mapping: Mapping,
    },
    Mock {
        mapping: Mapping,
    },
    Unsupported(String),
}

/// Request templates and integration responses (non-proxy integrations).
struct Mapping {
    request_templates: IndexMap<String, vtl::Template>,
    passthrough: String,
    responses: Vec<IntegrationResponse>,
    timeout: Duration,
}

struct IntegrationResponse {
    status: u16,
    pattern: Option<regex::Regex>,
    templates: IndexMap<String, vtl::Template>,
    parameters: IndexMap<String, String>,
}

struct Stage {
    variables: IndexMap<String, String>,
    throttle: Option<Throttle>,
}

/// The stage's `MethodSettings` throttling (`ResourcePath: /*`, `HttpMethod: *`): a token bucket of
/// `burst` tokens refilled at `rate` per second, as API Gateway applies it.
struct Throttle {
    rate: f64,
    burst: f64,
    bucket: std::sync::Mutex<(f64, Instant)>,
}

impl Throttle {
    fn admit(&self) -> bool {
        let Ok(mut bucket) = self.bucket.lock() else {
            return true;
        };
        let now = Instant::now();
        let (tokens, last) = *bucket;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            true
        } else {
            *bucket = (tokens, now);
            false
        }
    }
}

struct RestApi {
    id: String,
    stages: IndexMap<String, Stage>,
    routes: Vec<Route>,
}

struct Permission {
    function: String,
    principal: String,
    source_arn: Option<String>,
}

/// Where the gateway's own time goes, for `/_local/stats` and the benchmarks.
#[derive(Debug, Default)]
pub struct GatewayStats {
    pub requests: std::sync::atomic::AtomicU64,
    /// Request validation (JSON Schema), in microseconds.
    pub validation_micros: std::sync::atomic::AtomicU64,
    /// Rendering request and response mapping templates (VTL), in microseconds.
    pub vtl_micros: std::sync::atomic::AtomicU64,
}

fn add_elapsed(counter: &std::sync::atomic::AtomicU64, since: Instant) {
    counter.fetch_add(
        since.elapsed().as_micros() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// The gateway: every REST API of the template.
pub struct ApiGateway {
    pub stats: GatewayStats,
    apis: Vec<RestApi>,
    permissions: Vec<Permission>,
    lambda: Arc<LambdaService>,
    states: Arc<StatesService>,
    region: String,
}

/// One line of the start-up banner.
pub struct RouteInfo {
    pub stage: String,
    pub method: String,
    pub path: String,
    pub integration: String,
    pub has_model: bool,
}

fn gateway_error(status: u16, error_type: &str, message: &str, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(json!({"message": message}).to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(error_type) {
        headers.insert("x-amzn-errortype", value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

fn internal_error(request_id: &str) -> Response {
    gateway_error(
        500,
        "InternalServerErrorException",
        "Internal server error",
        request_id,
    )
}

impl ApiGateway {
    /// `throttling`: enforce the stages' `MethodSettings` rate and burst limits (429 over them).
    pub fn from_stack(
        stack: &Stack,
        lambda: Arc<LambdaService>,
        states: Arc<StatesService>,
        throttling: bool,
    ) -> Result<ApiGateway, ApiSetupError> {
        let mut apis = Vec::new();
        for api in stack.of_type("AWS::ApiGateway::RestApi") {
            apis.push(rest_api(stack, api, throttling)?);
        }
        let mut permissions = Vec::new();
        for permission in stack.of_type("AWS::Lambda::Permission") {
            let action = permission.str("Action")?;
            if action != "lambda:InvokeFunction" && action != "lambda:*" {
                continue;
            }
            permissions.push(Permission {
                function: function_name_of(permission.str("FunctionName")?).to_string(),
                principal: permission.str("Principal")?.to_string(),
                source_arn: permission.opt_str("SourceArn")?.map(str::to_string),
            });
        }
        Ok(ApiGateway {
            stats: GatewayStats::default(),
            apis,
            permissions,
            lambda,
            states,
            region: stack.region().to_string(),
        })
    }

    pub fn routes(&self) -> Vec<RouteInfo> {
        let mut out = Vec::new();
        for api in &self.apis {
            for stage in api.stages.keys() {
                for route in &api.routes {
                    for (method, config) in &route.methods {
                        out.push(RouteInfo {
                            stage: stage.clone(),
                            method: method.clone(),
                            path: route.path.clone(),
                            integration: match &config.integration {
                                Integration::LambdaProxy { function, .. } => {
                                    format!("Lambda proxy -> {}", function_name_of(function))
                                }
                                Integration::StepFunctions { action, .. } => {
                                    format!("Step Functions {action}")
                                }
                                Integration::Mock { .. } => "MOCK".into(),
                                Integration::Unsupported(what) => format!("unsupported: {what}"),
                            },
                            has_model: !config.models.is_empty(),
                        });
                    }
                }
            }
        }
        out
    }

    /// Handles one request to the gateway port.
    pub async fn handle(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
        peer: SocketAddr,
    ) -> Response {
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let response = self
            .dispatch(&method, &uri, &headers, body, peer, &request_id)
            .await;
        tracing::info!(
            target: "api",
            %request_id,
            method = %method,
            path = %uri.path(),
            status = response.status().as_u16(),
            millis = started.elapsed().as_millis() as u64,
            "request"
        );
        let mut response = response;
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-amzn-requestid", value);
        }
        response
    }

    async fn dispatch(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
        peer: SocketAddr,
        request_id: &str,
    ) -> Response {
        if body.len() > MAX_BODY_BYTES {
            return gateway_error(413, "RequestTooLarge", "Request Too Long", request_id);
        }
        let path = uri.path();
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let stage_name = parts.next().unwrap_or("");
        let rest = format!("/{}", parts.next().unwrap_or(""));
        let Some((api, stage)) = self
            .apis
            .iter()
            .find_map(|api| api.stages.get(stage_name).map(|stage| (api, stage)))
        else {
            // The invoke URL's root (no stage) answers Forbidden; any unknown stage is an unknown route.
            if stage_name.is_empty() {
                return gateway_error(403, "ForbiddenException", "Forbidden", request_id);
            }
            return gateway_error(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
                request_id,
            );
        };
        let Some((route, path_params)) = match_route(&api.routes, &rest) else {
            return gateway_error(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
                request_id,
            );
        };
        let Some(config) = route
            .methods
            .get(method.as_str())
            .or_else(|| route.methods.get("ANY"))
        else {
            return gateway_error(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
                request_id,
            );
        };
        if let Some(throttle) = &stage.throttle
            && !throttle.admit()
        {
            return gateway_error(
                429,
                "TooManyRequestsException",
                "Too Many Requests",
                request_id,
            );
        }
        let request = MethodRequest {
            api_id: &api.id,
            stage: stage_name,
            stage_variables: &stage.variables,
            route,
            method: method.as_str(),
            path: &rest,
            full_path: path,
            query: uri.query().unwrap_or(""),
            headers,
            body: &body,
            path_params,
            peer,
            request_id,
        };
        self.stats
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let validation = Instant::now();
        let refused = validate(config, &request);
        add_elapsed(&self.stats.validation_micros, validation);
        if let Some(response) = refused {
            return response;
        }
        match &config.integration {
            Integration::LambdaProxy {
                function,
                credentials,
                timeout,
            } => {
                self.lambda_proxy(function, credentials.as_ref(), *timeout, &request)
                    .await
            }
            Integration::StepFunctions {
                action,
                credentials,
                mapping,
            } => {
                self.step_functions(action, credentials.as_ref(), mapping, &request)
                    .await
            }
            Integration::Mock { mapping } => mock(mapping, &request),
            Integration::Unsupported(what) => {
                tracing::error!(method = %config.logical_id, "integration not supported locally: {what}");
                internal_error(request_id)
            }
        }
    }

    fn lambda_permitted(
        &self,
        function: &str,
        credentials: Option<&RolePolicy>,
        request: &MethodRequest<'_>,
        arn: &str,
    ) -> bool {
        if let Some(role) = credentials {
            return role.allows("lambda:InvokeFunction", arn);
        }
        let source = format!(
            "arn:aws:execute-api:{}:{ACCOUNT_ID}:{}/{}/{}{}",
            self.region, request.api_id, request.stage, request.method, request.path
        );
        self.permissions.iter().any(|p| {
            p.function == function
                && (p.principal == "apigateway.amazonaws.com" || p.principal == "*")
                && p.source_arn
                    .as_deref()
                    .is_none_or(|pattern| wildcard_match(pattern, &source))
        })
    }

    async fn lambda_proxy(
        &self,
        function: &str,
        credentials: Option<&RolePolicy>,
        timeout: Duration,
        request: &MethodRequest<'_>,
    ) -> Response {
        let Some(pool) = self.lambda.function(function) else {
            tracing::error!(
                "Execution failed due to configuration error: function {function} is not in the template"
            );
            return internal_error(request.request_id);
        };
        let name = pool.config.name.clone();
        if !self.lambda_permitted(&name, credentials, request, &pool.config.arn) {
            tracing::error!(
                function = %name,
                "Execution failed due to configuration error: Invalid permissions on Lambda function (no AWS::Lambda::Permission lets apigateway.amazonaws.com invoke it for this method)"
            );
            return internal_error(request.request_id);
        }
        let event = proxy_event(request);
        let invocation = self.lambda.invoke(&name, Bytes::from(event.to_string()));
        let outcome = match tokio::time::timeout(timeout, invocation).await {
            Ok(outcome) => outcome,
            Err(_) => {
                return gateway_error(
                    504,
                    "IntegrationTimeout",
                    "Endpoint request timed out",
                    request.request_id,
                );
            }
        };
        match outcome {
            Ok(payload) => proxy_response(&payload).unwrap_or_else(|problem| {
                tracing::error!(function = %name, "Execution failed due to configuration error: Malformed Lambda proxy response: {problem}");
                gateway_error(502, "InternalServerErrorException", "Internal server error", request.request_id)
            }),
            Err(error) => {
                match &error {
                    InvokeError::Function { error_type, error_message, .. } => {
                        tracing::error!(function = %name, %error_type, %error_message, "Lambda execution failed with status 200 due to customer function error");
                    }
                    InvokeError::Service { error_type, message } => {
                        tracing::error!(function = %name, %error_type, %message, "Lambda invocation failed");
                    }
                }
                gateway_error(502, "InternalServerErrorException", "Internal server error", request.request_id)
            }
        }
    }

    async fn step_functions(
        &self,
        action: &str,
        credentials: Option<&RolePolicy>,
        mapping: &Mapping,
        request: &MethodRequest<'_>,
    ) -> Response {
        let integration_body = match render_request(mapping, request) {
            Ok(body) => body,
            Err(response) => return response,
        };
        let Some(role) = credentials else {
            tracing::error!(
                "Execution failed due to configuration error: the AWS integration has no Credentials role the emulator can read"
            );
            return internal_error(request.request_id);
        };
        let call = async {
            let parsed: Value = match serde_json::from_str(&integration_body) {
                Ok(parsed) => parsed,
                Err(e) => {
                    return (
                        400,
                        json!({"__type": "com.amazonaws.swf.service.v2.model#SerializationException", "message": format!("the request body is not JSON: {e}")}),
                    );
                }
            };
            let result = match action {
                "StartExecution" => self.states.start_execution(&parsed, Some(role)),
                "StartSyncExecution" => self.states.start_sync_execution(&parsed, Some(role)).await,
                other => {
                    return (
                        400,
                        json!({"__type": "UnknownOperationException", "message": format!("the local emulator does not implement states:{other}")}),
                    );
                }
            };
            match result {
                Ok(answer) => (200, answer),
                Err(error) => (error.status, error.body()),
            }
        };
        let (status, answer) = match tokio::time::timeout(mapping.timeout, call).await {
            Ok(answer) => answer,
            Err(_) => {
                return gateway_error(
                    504,
                    "IntegrationTimeout",
                    "Endpoint request timed out",
                    request.request_id,
                );
            }
        };
        if status >= 400 {
            tracing::warn!(%action, status, answer = %answer, "Step Functions refused the call");
        }
        let rendering = Instant::now();
        let response = integration_response(mapping, request, status, &answer.to_string());
        add_elapsed(&self.stats.vtl_micros, rendering);
        response
    }
}

/// What the method request is, for templates and proxy events.
struct MethodRequest<'a> {
    api_id: &'a str,
    stage: &'a str,
    stage_variables: &'a IndexMap<String, String>,
    route: &'a Route,
    method: &'a str,
    /// The path after the stage.
    path: &'a str,
    full_path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    path_params: IndexMap<String, String>,
    peer: SocketAddr,
    request_id: &'a str,
}

impl MethodRequest<'_> {
    fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_lowercase())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "application/json".to_string())
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let decode = |s: &str| vtl::url_decode(s).unwrap_or_else(|_| s.to_string());
                (decode(k), decode(v))
            })
            .collect()
    }

    fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    }

    fn request_time(&self) -> (String, i64) {
        let now = chrono::Utc::now();
        (
            now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            now.timestamp_millis(),
        )
    }

    fn vtl_request(&self) -> vtl::apigw::ApiGatewayRequest {
        let (request_time, epoch) = self.request_time();
        let mut request = vtl::apigw::ApiGatewayRequest {
            body: String::from_utf8_lossy(self.body).into_owned(),
            ..Default::default()
        };
        request.headers = self.header_pairs().into_iter().collect();
        request.query = self.query_pairs().into_iter().collect();
        request.path_params = self.path_params.clone();
        request.stage_variables = self.stage_variables.clone();
        let c = &mut request.context;
        c.request_id = self.request_id.to_string();
        c.extended_request_id = self.request_id.to_string();
        c.account_id = ACCOUNT_ID.to_string();
        c.api_id = self.api_id.to_string();
        c.stage = self.stage.to_string();
        c.http_method = self.method.to_string();
        c.resource_path = self.route.path.clone();
        c.resource_id = self.route.resource_id.clone();
        c.path = self.full_path.to_string();
        c.domain_name = self.host();
        c.domain_prefix = self.api_id.to_string();
        c.protocol = "HTTP/1.1".to_string();
        c.request_time = request_time;
        c.request_time_epoch = epoch;
        c.source_ip = self.peer.ip().to_string();
        c.user_agent = self
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        request
    }

    fn host(&self) -> String {
        self.headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_string()
    }
}

fn match_route<'a>(
    routes: &'a [Route],
    path: &str,
) -> Option<(&'a Route, IndexMap<String, String>)> {
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let mut best: Option<(&Route, IndexMap<String, String>, usize)> = None;
    for route in routes {
        let mut params = IndexMap::new();
        let mut score = 0;
        let mut matched = true;
        let mut index = 0;
        for segment in &route.segments {
            match segment {
                Segment::Literal(literal) => {
                    if parts.get(index) != Some(&literal.as_str()) {
                        matched = false;
                        break;
                    }
                    score += 100;
                }
                Segment::Param(name) => {
                    let Some(value) = parts.get(index) else {
                        matched = false;
                        break;
                    };
                    params.insert(
                        name.clone(),
                        vtl::url_decode(value).unwrap_or_else(|_| value.to_string()),
                    );
                    score += 10;
                }
                Segment::Greedy(name) => {
                    if index >= parts.len() {
                        matched = false;
                        break;
                    }
                    params.insert(name.clone(), parts[index..].join("/"));
                    index = parts.len();
                    score += 1;
                    break;
                }
            }
            index += 1;
        }
        if matched && index == parts.len() && best.as_ref().is_none_or(|(_, _, s)| score > *s) {
            best = Some((route, params, score));
        }
    }
    best.map(|(route, params, _)| (route, params))
}

/// The request validator: body against the model of its content type, required parameters present.
fn validate(config: &ApiMethod, request: &MethodRequest<'_>) -> Option<Response> {
    if config.validate_parameters {
        let headers: Vec<String> = request
            .headers
            .keys()
            .map(|k| k.as_str().to_lowercase())
            .collect();
        let query = request.query_pairs();
        let missing: Vec<&str> = config
            .required_parameters
            .iter()
            .filter_map(|p| {
                let (place, name) = p.strip_prefix("method.request.")?.split_once('.')?;
                let present = match place {
                    "header" => headers.contains(&name.to_lowercase()),
                    "querystring" => query.iter().any(|(k, _)| k == name),
                    "path" => request.path_params.contains_key(name),
                    _ => true,
                };
                (!present).then_some(name)
            })
            .collect();
        if !missing.is_empty() {
            let message = format!(
                "Missing required request parameters: [{}]",
                missing.join(", ")
            );
            return Some(gateway_error(
                400,
                "BadRequestException",
                &message,
                request.request_id,
            ));
        }
    }
    if config.validate_body {
        let content_type = request.content_type();
        let model = config
            .models
            .get(&content_type)
            .or_else(|| config.models.get("$default"));
        if let Some(schema) = model {
            let valid = serde_json::from_slice::<Value>(request.body)
                .map(|body| schema.is_valid(&body))
                .unwrap_or(false);
            if !valid {
                return Some(gateway_error(
                    400,
                    "BadRequestException",
                    "Invalid request body",
                    request.request_id,
                ));
            }
        }
    }
    None
}

/// `headers`/`queryStringParameters` (the last value of a name) and their `multiValue...` twins.
fn single_and_multi(pairs: Vec<(String, String)>) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), json!(value));
        if let Some(values) = multi
            .entry(name)
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            values.push(json!(value));
        }
    }
    (single, multi)
}

/// The v1 proxy event, as API Gateway sends it to a Lambda proxy integration.
fn proxy_event(request: &MethodRequest<'_>) -> Value {
    let (headers, multi_headers) = single_and_multi(request.header_pairs());
    let (query, multi_query) = single_and_multi(request.query_pairs());
    let or_null = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    let (body, is_base64) = match std::str::from_utf8(request.body) {
        _ if request.body.is_empty() => (Value::Null, false),
        Ok(text) => (json!(text), false),
        Err(_) => (
            json!(base64::engine::general_purpose::STANDARD.encode(request.body)),
            true,
        ),
    };
    let (request_time, epoch) = request.request_time();
    let path_params: Map<String, Value> = request
        .path_params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let stage_variables: Map<String, Value> = request
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let user_agent = request
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok());
    json!({
        "resource": request.route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": or_null(headers),
        "multiValueHeaders": or_null(multi_headers),
        "queryStringParameters": or_null(query),
        "multiValueQueryStringParameters": or_null(multi_query),
        "pathParameters": or_null(path_params),
        "stageVariables": or_null(stage_variables),
        "requestContext": {
            "resourceId": request.route.resource_id,
            "resourcePath": request.route.path,
            "httpMethod": request.method,
            "extendedRequestId": request.request_id,
            "requestTime": request_time,
            "path": request.full_path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": request.stage,
            "domainPrefix": request.api_id,
            "requestTimeEpoch": epoch,
            "requestId": request.request_id,
            "identity": {
                "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null, "caller": null,
                "sourceIp": request.peer.ip().to_string(), "principalOrgId": null, "accessKey": null,
                "cognitoAuthenticationType": null, "cognitoAuthenticationProvider": null, "userArn": null,
                "userAgent": user_agent, "user": null,
            },
            "domainName": request.host(),
            "apiId": request.api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

/// A Lambda proxy integration's answer as the HTTP response; `Err` names what is malformed.
fn proxy_response(payload: &[u8]) -> Result<Response, String> {
    let answer: Value = serde_json::from_slice(payload).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(answer) = answer else {
        return Err("not a JSON object".into());
    };
    let status = match answer.get("statusCode") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .filter(|s| (100..=599).contains(s))
    .ok_or("statusCode is missing or not an HTTP status")? as u16;
    let body = match answer.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => {
            if answer.get("isBase64Encoded") == Some(&Value::Bool(true)) {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| format!("body is not valid base64: {e}"))?
            } else {
                text.clone().into_bytes()
            }
        }
        Some(_) => return Err("body must be a string".into()),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).map_err(|e| e.to_string())?;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let mut add = |name: &str, value: &Value, append: bool| -> Result<(), String> {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name}: {e}"))?;
        let value = HeaderValue::from_str(&text).map_err(|e| format!("header {name}: {e}"))?;
        if append {
            headers.append(name, value);
        } else {
            headers.insert(name, value);
        }
        Ok(())
    };
    if let Some(Value::Object(single)) = answer.get("headers") {
        for (name, value) in single {
            add(name, value, false)?;
        }
    }
    if let Some(Value::Object(multi)) = answer.get("multiValueHeaders") {
        for (name, values) in multi {
            for value in values.as_array().into_iter().flatten() {
                add(name, value, true)?;
            }
        }
    }
    Ok(response)
}

/// Renders the request template for the request's Content-Type, or applies the passthrough behaviour.
#[allow(clippy::result_large_err)] // the Err is the gateway's answer, built once per request
fn render_request(mapping: &Mapping, request: &MethodRequest<'_>) -> Result<String, Response> {
    let content_type = request.content_type();
    let template = mapping.request_templates.get(&content_type);
    let Some(template) = template else {
        let passthrough = match mapping.passthrough.as_str() {
            "NEVER" => false,
            "WHEN_NO_TEMPLATES" => mapping.request_templates.is_empty(),
            _ => true,
        };
        if !passthrough {
            return Err(gateway_error(
                415,
                "UnsupportedMediaTypeException",
                "Unsupported Media Type",
                request.request_id,
            ));
        }
        return Ok(String::from_utf8_lossy(request.body).into_owned());
    };
    let mut context = request.vtl_request().request_context();
    template.render(&mut context).map(|r| r.body).map_err(|e| {
        tracing::error!(
            "Execution failed due to configuration error: the request template failed: {e}"
        );
        internal_error(request.request_id)
    })
}

/// Chooses the integration response by selection pattern (the status code, for AWS integrations), renders
/// its template and applies `$context.responseOverride`.
fn integration_response(
    mapping: &Mapping,
    request: &MethodRequest<'_>,
    status: u16,
    body: &str,
) -> Response {
    let status_text = status.to_string();
    let chosen = mapping
        .responses
        .iter()
        .find(|r| r.pattern.as_ref().is_some_and(|p| p.is_match(&status_text)))
        .or_else(|| mapping.responses.iter().find(|r| r.pattern.is_none()));
    let Some(chosen) = chosen else {
        tracing::error!(
            "Execution failed due to configuration error: No match for output mapping and no default output mapping configured"
        );
        return internal_error(request.request_id);
    };
    let accept = request
        .headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_lowercase();
    let template = chosen
        .templates
        .iter()
        .find(|(ct, _)| accept.contains(ct.as_str()))
        .or_else(|| {
            chosen
                .templates
                .iter()
                .find(|(ct, _)| ct.as_str() == "application/json")
        })
        .or_else(|| chosen.templates.iter().next());
    let (content_type, rendered_body, overrides) = match template {
        Some((content_type, template)) => {
            let mut context = request.vtl_request().response_context(body);
            match template.render(&mut context) {
                Ok(rendered) => (
                    content_type.clone(),
                    rendered.body,
                    Some(rendered.response_override),
                ),
                Err(e) => {
                    tracing::error!(
                        "Execution failed due to configuration error: the response template failed: {e}"
                    );
                    return internal_error(request.request_id);
                }
            }
        }
        None => ("application/json".to_string(), body.to_string(), None),
    };
    let mut response = Response::new(Body::from(rendered_body));
    let status = overrides
        .as_ref()
        .and_then(|o| o.status)
        .unwrap_or(chosen.status);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert("content-type", value);
    }
    for (target, source) in &chosen.parameters {
        let Some(name) = target.strip_prefix("method.response.header.") else {
            continue;
        };
        let value =
            if let Some(literal) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                Some(literal.to_string())
            } else if let Some(field) = source.strip_prefix("integration.response.body.") {
                serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|b| b.get(field).cloned())
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
            } else {
                None
            };
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.map(|v| HeaderValue::from_str(&v)),
        ) {
            headers.insert(name, value);
        }
    }
    if let Some(overrides) = overrides {
        for (name, value) in overrides.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
    }
    response
}

/// MOCK integrations: the request template's `statusCode` selects the integration response.
fn mock(mapping: &Mapping, request: &MethodRequest<'_>) -> Response {
    let rendered = match render_request(mapping, request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let status = serde_json::from_str::<Value>(&rendered)
        .ok()
        .and_then(|v| v.get("statusCode").and_then(Value::as_u64))
        .unwrap_or(200) as u16;
    integration_response(mapping, request, status, "")
}

fn parse_templates(
    method: &Resource,
    property: &str,
    templates: Option<&Value>,
) -> Result<IndexMap<String, vtl::Template>, TemplateError> {
    let mut out = IndexMap::new();
    let Some(templates) = templates else {
        return Ok(out);
    };
    let Value::Object(templates) = templates else {
        return Err(method.error(property, "expected a mapping of content type to template"));
    };
    for (content_type, source) in templates {
        let Value::String(source) = source else {
            return Err(method.error(
                &format!("{property}.{content_type}"),
                "expected a template string",
            ));
        };
        let template = vtl::Template::parse(source).map_err(|e| {
            method.error(
                &format!("{property}.{content_type}"),
                format!(
                    "the mapping template does not parse: line {}, column {}: {}",
                    e.line, e.column, e.message
                ),
            )
        })?;
        out.insert(content_type.to_lowercase(), template);
    }
    Ok(out)
}

fn mapping(stack: &Stack, method: &Resource) -> Result<Mapping, TemplateError> {
    let request_templates = parse_templates(
        method,
        "Integration.RequestTemplates",
        method.get("Integration.RequestTemplates"),
    )?;
    let passthrough = method
        .opt_str("Integration.PassthroughBehavior")?
        .unwrap_or("WHEN_NO_MATCH")
        .to_uppercase();
    let mut responses = Vec::new();
    if let Some(Value::Array(list)) = method.get("Integration.IntegrationResponses") {
        for (index, response) in list.iter().enumerate() {
            let at = format!("Integration.IntegrationResponses.{index}");
            let status = match response.get("StatusCode") {
                Some(Value::String(s)) => s.parse().ok(),
                Some(Value::Number(n)) => n.as_u64().map(|n| n as u16),
                _ => None,
            }
            .ok_or_else(|| {
                method.error(&format!("{at}.StatusCode"), "expected an HTTP status code")
            })?;
            let pattern = match response.get("SelectionPattern").and_then(Value::as_str) {
                None | Some("") => None,
                // API Gateway matches the whole value against the pattern.
                Some(pattern) => {
                    Some(regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                        method.error(
                            &format!("{at}.SelectionPattern"),
                            format!("not a valid regular expression: {e}"),
                        )
                    })?)
                }
            };
            let templates = parse_templates(
                method,
                &format!("{at}.ResponseTemplates"),
                response.get("ResponseTemplates"),
            )?;
            let parameters = response
                .get("ResponseParameters")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            responses.push(IntegrationResponse {
                status,
                pattern,
                templates,
                parameters,
            });
        }
    }
    let _ = stack;
    Ok(Mapping {
        request_templates,
        passthrough,
        responses,
        timeout: integration_timeout(method)?,
    })
}

fn integration_timeout(method: &Resource) -> Result<Duration, TemplateError> {
    Ok(method
        .opt_u64("Integration.TimeoutInMillis")?
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_INTEGRATION_TIMEOUT))
}

fn integration(stack: &Stack, method: &Resource) -> Result<Integration, TemplateError> {
    let kind = method.str("Integration.Type")?.to_uppercase();
    let credentials = match method.opt_str("Integration.Credentials")? {
        Some(role) => Some(RolePolicy::for_role(stack, role).ok_or_else(|| {
            method.error(
                "Integration.Credentials",
                format!("{role} is not a role of the template"),
            )
        })?),
        None => None,
    };
    let uri = method.opt_str("Integration.Uri")?.unwrap_or("");
    Ok(match kind.as_str() {
        "AWS_PROXY" => {
            // arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations
            let function = uri
                .split_once(":lambda:path/2015-03-31/functions/")
                .and_then(|(_, rest)| rest.strip_suffix("/invocations"))
                .ok_or_else(|| {
                    method.error(
                        "Integration.Uri",
                        format!("not a Lambda function invocation URI: {uri}"),
                    )
                })?;
            Integration::LambdaProxy {
                function: function.to_string(),
                credentials,
                timeout: integration_timeout(method)?,
            }
        }
        "AWS" => match uri.split_once(":states:action/") {
            Some((_, action)) => Integration::StepFunctions {
                action: action.to_string(),
                credentials,
                mapping: mapping(stack, method)?,
            },
            None => Integration::Unsupported(format!("AWS service integration {uri}")),
        },
        "MOCK" => Integration::Mock {
            mapping: mapping(stack, method)?,
        },
        other => Integration::Unsupported(format!("{other} integration {uri}")),
    })
}

/// The stage-wide throttling of `MethodSettings` (the entry for every resource and method).
fn stage_throttle(stage: &Resource) -> Result<Option<Throttle>, TemplateError> {
    let Some(Value::Array(settings)) = stage.get("MethodSettings") else {
        return Ok(None);
    };
    let number = |value: Option<&Value>| match value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    for setting in settings {
        let everywhere = setting.get("ResourcePath").and_then(Value::as_str) == Some("/*")
            && setting.get("HttpMethod").and_then(Value::as_str) == Some("*");
        if !everywhere {
            continue;
        }
        let rate = number(setting.get("ThrottlingRateLimit"));
        let burst = number(setting.get("ThrottlingBurstLimit"));
        if let (Some(rate), Some(burst)) = (rate, burst) {
            if rate <= 0.0 || burst < 1.0 {
                return Err(stage.error("MethodSettings", "throttling limits must be positive"));
            }
            return Ok(Some(Throttle {
                rate,
                burst,
                bucket: std::sync::Mutex::new((burst, Instant::now())),
            }));
        }
    }
    Ok(None)
}

fn rest_api(stack: &Stack, api: &Resource, throttling: bool) -> Result<RestApi, TemplateError> {
    let id = api.reference.clone();
    let root = stack.attribute(api, "RootResourceId")?;
    let belongs = |r: &&Resource| r.get("RestApiId").and_then(Value::as_str) == Some(id.as_str());

    // Resource id -> full path.
    let resources: Vec<&Resource> = stack
        .of_type("AWS::ApiGateway::Resource")
        .filter(belongs)
        .collect();
    let mut paths: IndexMap<String, String> = IndexMap::new();
    paths.insert(root.clone(), "/".to_string());
    for _ in 0..=resources.len() {
        for resource in &resources {
            if paths.contains_key(&resource.reference) {
                continue;
            }
            let parent = resource.str("ParentId")?;
            if let Some(parent_path) = paths.get(parent).cloned() {
                let part = resource.str("PathPart")?;
                let path = if parent_path == "/" {
                    format!("/{part}")
                } else {
                    format!("{parent_path}/{part}")
                };
                paths.insert(resource.reference.clone(), path);
            }
        }
    }
    for resource in &resources {
        if !paths.contains_key(&resource.reference) {
            return Err(resource.error("ParentId", "the parent resource is not part of this API"));
        }
    }

    let models: IndexMap<String, &Resource> = stack
        .of_type("AWS::ApiGateway::Model")
        .filter(belongs)
        .map(|m| (m.reference.clone(), m))
        .collect();
    let validators: IndexMap<String, &Resource> = stack
        .of_type("AWS::ApiGateway::RequestValidator")
        .filter(belongs)
        .map(|v| (v.reference.clone(), v))
        .collect();

    let mut routes: Vec<Route> = paths
        .iter()
        .map(|(resource_id, path)| Route {
            resource_id: resource_id.clone(),
            path: path.clone(),
            segments: path
                .split('/')
                .filter(|p| !p.is_empty())
                .map(
                    |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                        Some(name) => match name.strip_suffix('+') {
                            Some(greedy) => Segment::Greedy(greedy.to_string()),
                            None => Segment::Param(name.to_string()),
                        },
                        None => Segment::Literal(part.to_string()),
                    },
                )
                .collect(),
            methods: IndexMap::new(),
        })
        .collect();

    for method in stack.of_type("AWS::ApiGateway::Method").filter(belongs) {
        let resource_id = method.str("ResourceId")?;
        let Some(route) = routes.iter_mut().find(|r| r.resource_id == resource_id) else {
            return Err(method.error(
                "ResourceId",
                format!("{resource_id} is not a resource of API {}", api.logical_id),
            ));
        };
        let (validate_body, validate_parameters) = match method.opt_str("RequestValidatorId")? {
            Some(validator_id) => {
                let validator = validators.get(validator_id).ok_or_else(|| {
                    method.error(
                        "RequestValidatorId",
                        format!("{validator_id} is not a validator of this API"),
                    )
                })?;
                let flag = |name: &str| validator.get(name) == Some(&Value::Bool(true));
                (
                    flag("ValidateRequestBody"),
                    flag("ValidateRequestParameters"),
                )
            }
            None => (false, false),
        };
        let mut compiled = IndexMap::new();
        if let Some(Value::Object(request_models)) = method.get("RequestModels") {
            for (content_type, model_name) in request_models {
                let model_name = model_name.as_str().unwrap_or_default();
                let schema = match models.get(model_name) {
                    Some(model) => model
                        .get("Schema")
                        .cloned()
                        .ok_or_else(|| model.error("Schema", "the model has no Schema"))?,
                    // API Gateway's built-in models.
                    None if model_name == "Empty" || model_name == "Error" => json!({}),
                    None => {
                        return Err(method.error(
                            &format!("RequestModels.{content_type}"),
                            format!("no model named {model_name} in this API"),
                        ));
                    }
                };
                let schema = match schema {
                    Value::String(text) => serde_json::from_str(&text).map_err(|e| {
                        method.error(
                            &format!("RequestModels.{content_type}"),
                            format!("model {model_name}: the schema is not JSON: {e}"),
                        )
                    })?,
                    other => other,
                };
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft4)
                    .build(&schema)
                    .map_err(|e| {
                        method.error(
                            &format!("RequestModels.{content_type}"),
                            format!("model {model_name}: invalid JSON Schema: {e}"),
                        )
                    })?;
                compiled.insert(content_type.to_lowercase(), Arc::new(validator));
            }
        }
        let required_parameters = method
            .get("RequestParameters")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .filter(|(_, v)| **v == Value::Bool(true))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        let http_method = method.str("HttpMethod")?.to_uppercase();
        let config = ApiMethod {
            logical_id: method.logical_id.clone(),
            validate_body,
            validate_parameters,
            models: compiled,
            required_parameters,
            integration: integration(stack, method)?,
        };
        route.methods.insert(http_method, Arc::new(config));
    }
    routes.retain(|r| !r.methods.is_empty());

    let mut stages = IndexMap::new();
    for stage in stack.of_type("AWS::ApiGateway::Stage").filter(belongs) {
        let variables = stage
            .get("Variables")
            .and_then(Value::as_object)
            .map(|v| {
                v.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let throttle = if throttling {
            stage_throttle(stage)?
        } else {
            None
        };
        stages.insert(
            stage.str("StageName")?.to_string(),
            Stage {
                variables,
                throttle,
            },
        );
    }
    for deployment in stack.of_type("AWS::ApiGateway::Deployment").filter(belongs) {
        if let Some(name) = deployment.opt_str("StageName")? {
            stages.entry(name.to_string()).or_insert(Stage {
                variables: IndexMap::new(),
                throttle: None,
            });
        }
    }
    if stages.is_empty() {
        tracing::warn!(api = %api.logical_id, "the REST API has no stage (no AWS::ApiGateway::Stage nor Deployment StageName): it cannot be called");
    }
    Ok(RestApi { id, stages, routes })
}
