//! Parse and evaluate costs of typical Step Functions paths.
//! Run: `cargo bench -p jsonpath --bench jsonpath`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonpath::{JsonPath, ReferencePath};
use serde_json::json;

fn benches(c: &mut Criterion) {
    let input = json!({
        "orderId": "o-1",
        "order": (0..100).map(|i| json!({"itemId": format!("item-{i}"), "quantity": i % 7})).collect::<Vec<_>>()
    });
    c.bench_function("parse $.order[0].itemId", |b| {
        b.iter(|| JsonPath::parse(black_box("$.order[0].itemId")))
    });
    c.bench_function("parse filter", |b| {
        b.iter(|| {
            JsonPath::parse(black_box(
                "$.order[?(@.quantity > 3 && @.itemId != 'x')].itemId",
            ))
        })
    });
    let simple = JsonPath::parse("$.order[0].itemId").unwrap();
    c.bench_function("resolve $.order[0].itemId", |b| {
        b.iter(|| simple.resolve(black_box(&input), None))
    });
    let filter = JsonPath::parse("$.order[?(@.quantity > 3)].itemId").unwrap();
    c.bench_function("resolve filter over 100 items", |b| {
        b.iter(|| filter.resolve(black_box(&input), None))
    });
    let result_path = ReferencePath::parse("$.result.stock").unwrap();
    c.bench_function("set $.result.stock", |b| {
        b.iter_batched(
            || input.clone(),
            |mut target| result_path.set(&mut target, json!(3)),
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(group, benches);
criterion_main!(group);
