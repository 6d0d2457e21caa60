//! Parse + render of the create-order request template for a typical order body.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vtl::{Template, apigw::ApiGatewayRequest};

const TEMPLATE_PATHS: &[&str] = &[
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../templates/create-order-request.vtl"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/create-order-request.vtl"
    ),
];

fn template_source() -> String {
    TEMPLATE_PATHS
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .expect("a create-order request template")
}

fn typical_request() -> ApiGatewayRequest {
    let mut request = ApiGatewayRequest {
        body: r#"[{"itemId": "apple", "quantity": 2}, {"itemId": "pear", "quantity": 1}, {"itemId": "O'Brien \"special\" tea", "quantity": 3}]"#.into(),
        ..Default::default()
    };
    request
        .headers
        .insert("Content-Type".into(), "application/json".into());
    request.context.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
    request.context.stage = "prod".into();
    request.context.http_method = "POST".into();
    request.context.resource_path = "/create-order".into();
    request.stage_variables.insert(
        "stateMachineArn".into(),
        "arn:aws:states:eu-west-1:123456789012:stateMachine:orders".into(),
    );
    request
}

fn bench(c: &mut Criterion) {
    let source = template_source();
    let request = typical_request();
    c.bench_function("parse create-order-request.vtl", |b| {
        b.iter(|| Template::parse(black_box(&source)).expect("parses"))
    });
    let template = Template::parse(&source).expect("parses");
    c.bench_function("render create-order-request.vtl", |b| {
        b.iter(|| {
            let mut ctx = request.request_context();
            template.render(black_box(&mut ctx)).expect("renders")
        })
    });
    c.bench_function("parse+render create-order-request.vtl", |b| {
        b.iter(|| {
            let template = Template::parse(black_box(&source)).expect("parses");
            let mut ctx = request.request_context();
            template.render(&mut ctx).expect("renders")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
