//! Read, write and validate the shop's order workflow definition.
//! Run: `cargo bench -p asl --bench asl`

use std::hint::black_box;

use asl::{StateMachine, ValidationContext, validate};
use criterion::{Criterion, criterion_group, criterion_main};

fn benches(c: &mut Criterion) {
    let text = include_str!("../tests/valid/shop-order-workflow.json");
    let machine = StateMachine::from_json(text).unwrap();
    let context = ValidationContext::new().with_substitutions([
        "IsItemInStockFunctionArn",
        "UpdateItemStockFunctionArn",
        "CreateOrderFunctionArn",
        "CancelOrderFunctionArn",
    ]);
    assert_eq!(validate(&machine, &context), Ok(()));
    c.bench_function("read shop-order-workflow", |b| {
        b.iter(|| StateMachine::from_json(black_box(text)))
    });
    c.bench_function("write shop-order-workflow (pretty)", |b| {
        b.iter(|| black_box(&machine).to_json_pretty())
    });
    c.bench_function("validate shop-order-workflow", |b| {
        b.iter(|| validate(black_box(&machine), &context))
    });
    c.bench_function("parse intrinsic (9 nested calls)", |b| {
        b.iter(|| asl::intrinsic::parse(black_box("States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))")))
    });
}

criterion_group!(group, benches);
criterion_main!(group);
