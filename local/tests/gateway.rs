//! The API Gateway emulation in-process, over the test-only echo function (a real process speaking the
//! Runtime API): the v1 proxy event, proxy response mapping, Lambda permissions, MOCK integrations with
//! mapping templates, required parameters, gateway errors.

mod echo;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use local::apigw::ApiGateway;
use local::lambda::{ConcurrencyLimitPolicy, LambdaService};
use local::states::StatesService;
use local::template::DeployContext;
use serde_json::{Value, json};
use std::sync::Arc;

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    fn header(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("").to_string())
            .collect()
    }
}

fn gateway() -> (ApiGateway, Arc<LambdaService>) {
    let stack = echo::fixture_stack("gateway-stack.yaml", DeployContext::default());
    let settings = echo::lambda_settings(echo::examples_dir(), 2, ConcurrencyLimitPolicy::Queue);
    let lambda = Arc::new(LambdaService::from_stack(&stack, &settings).expect("lambda"));
    let states = Arc::new(StatesService::from_stack(&stack, lambda.clone()).expect("states"));
    (
        ApiGateway::from_stack(&stack, lambda.clone(), states, true).expect("gateway"),
        lambda,
    )
}

async fn call(
    gateway: &ApiGateway,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    let response = gateway
        .handle(
            Method::from_bytes(method.as_bytes()).expect("method"),
            uri.parse::<Uri>().expect("uri"),
            map,
            Bytes::from(body.to_string()),
            "127.0.0.9:5555".parse().expect("peer"),
        )
        .await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn the_proxy_event_has_the_v1_shape_and_the_response_is_mapped_back() {
    let (gateway, lambda) = gateway();
    let answer = call(
        &gateway,
        "PUT",
        "/test/things/a%20b?tag=x&tag=y&single=1",
        &[
            ("content-type", "text/plain"),
            ("x-multi", "one"),
            ("x-multi", "two"),
            ("user-agent", "tests"),
        ],
        "hello",
    )
    .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.header("x-echo"), ["yes"]);
    assert_eq!(answer.header("set-cookie"), ["a=1", "b=2"]);
    let event = answer.json();
    assert_eq!(event["resource"], "/things/{id}");
    assert_eq!(event["path"], "/things/a%20b");
    assert_eq!(event["httpMethod"], "PUT");
    assert_eq!(event["pathParameters"], json!({"id": "a b"}));
    assert_eq!(
        event["queryStringParameters"],
        json!({"tag": "y", "single": "1"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"tag": ["x", "y"], "single": ["1"]})
    );
    assert_eq!(event["headers"]["x-multi"], "two");
    assert_eq!(event["multiValueHeaders"]["x-multi"], json!(["one", "two"]));
    assert_eq!(event["stageVariables"], json!({"color": "blue"}));
    assert_eq!(event["body"], "hello");
    assert_eq!(event["isBase64Encoded"], false);
    let context = &event["requestContext"];
    assert_eq!(context["stage"], "test");
    assert_eq!(context["resourcePath"], "/things/{id}");
    assert_eq!(context["httpMethod"], "PUT");
    assert_eq!(context["path"], "/test/things/a%20b");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.9");
    assert_eq!(context["identity"]["userAgent"], "tests");
    assert_eq!(context["accountId"], "000000000000");
    assert_eq!(context["requestId"].as_str().map(str::len), Some(36));
    assert_eq!(
        answer.header("x-amzn-requestid"),
        [context["requestId"].as_str().unwrap_or("").to_string()]
    );
    assert!(context["requestTimeEpoch"].as_i64().unwrap_or(0) > 1_600_000_000_000);

    let binary = call(&gateway, "GET", "/test/things/1?shape=base64", &[], "").await;
    assert_eq!(binary.status, 200);
    assert_eq!(&binary.body[..], b"hello bytes");
    assert_eq!(binary.header("content-type"), ["application/octet-stream"]);

    let broken = call(&gateway, "GET", "/test/things/1?shape=broken", &[], "").await;
    assert_eq!(broken.status, 502);
    assert_eq!(broken.json(), json!({"message": "Internal server error"}));
    lambda.shutdown();
}

#[tokio::test]
async fn gateway_errors_are_the_ones_api_gateway_gives() {
    let (gateway, lambda) = gateway();
    // Case table: method, path, headers, body -> status, body.
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a str,
        u16,
        Value,
    );
    let cases: &[Case] = &[
        (
            "GET",
            "/test/nothing-here",
            &[],
            "",
            403,
            json!({"message": "Missing Authentication Token"}),
        ),
        (
            "DELETE",
            "/test/files/a/b",
            &[],
            "",
            403,
            json!({"message": "Missing Authentication Token"}),
        ),
        (
            "GET",
            "/other/things/1",
            &[],
            "",
            403,
            json!({"message": "Missing Authentication Token"}),
        ),
        ("GET", "/", &[], "", 403, json!({"message": "Forbidden"})),
        // The permission's SourceArn covers /things/* only.
        (
            "GET",
            "/test/files/a/b",
            &[],
            "",
            500,
            json!({"message": "Internal server error"}),
        ),
        (
            "POST",
            "/test/mocked",
            &[],
            "{}",
            400,
            json!({"message": "Missing required request parameters: [x-tenant]"}),
        ),
        (
            "POST",
            "/test/mocked",
            &[("x-tenant", "t1")],
            r#"{"fail": true}"#,
            503,
            json!({"mocked": "failure"}),
        ),
    ];
    for (method, path, headers, body, status, expected) in cases {
        let answer = call(&gateway, method, path, headers, body).await;
        assert_eq!(answer.status, *status, "{method} {path}: {:?}", answer.body);
        assert_eq!(&answer.json(), expected, "{method} {path}");
    }
    lambda.shutdown();
}

#[tokio::test]
async fn mock_integrations_render_templates_with_overrides_and_parameters() {
    let (gateway, lambda) = gateway();
    let answer = call(
        &gateway,
        "POST",
        "/test/mocked",
        &[("x-tenant", r#"it's "t""#)],
        "{}",
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"tenant": r#"it's "t""#, "stage": "test", "color": "blue"})
    );
    assert_eq!(answer.header("x-mocked"), ["yes"]);
    assert_eq!(answer.header("x-tenant"), [r#"it's "t""#]);
    lambda.shutdown();
}

#[tokio::test]
async fn the_stage_throttles_over_its_burst() {
    let (gateway, lambda) = gateway();
    // The fixture's stage allows a burst of 5 requests, refilled at 1 per second.
    let mut answers = Vec::new();
    for _ in 0..8 {
        answers.push(call(&gateway, "POST", "/test/mocked", &[("x-tenant", "t")], "{}").await);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(&statuses[..5], &[200; 5], "{statuses:?}");
    let throttled = answers
        .iter()
        .find(|a| a.status == 429)
        .expect("a request over the burst is throttled");
    assert_eq!(throttled.json(), json!({"message": "Too Many Requests"}));
    assert_eq!(
        throttled.header("x-amzn-errortype"),
        ["TooManyRequestsException"]
    );
    lambda.shutdown();
}
