//! State transitions per second: a chain of Pass states, and a Map of 1000 items with a trivial task
//! each. Run: `cargo bench -p sfn --bench transitions`; criterion reports elements/s = transitions/s.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use sfn::{ExecutionOptions, Executor, StateMachine, TaskRequest, VirtualClock, handler_fn};

const CHAIN: usize = 100;
const ITEMS: usize = 1000;

fn pass_chain() -> StateMachine {
    let mut states = Map::new();
    for i in 0..CHAIN {
        let mut state = json!({"Type": "Pass", "Parameters": {"step": i, "value.$": "$.value"}});
        if i + 1 == CHAIN {
            state["End"] = json!(true);
        } else {
            state["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), state);
    }
    StateMachine::from_value(json!({"StartAt": "S0", "States": states})).expect("valid chain")
}

fn map_of_tasks() -> StateMachine {
    StateMachine::from_value(json!({
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0, "ResultPath": null, "End": true,
            "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
            "ItemProcessor": {"StartAt": "Touch", "States": {"Touch": {
                "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:touch", "End": true
            }}}
        }}
    }))
    .expect("valid map")
}

fn transitions(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let handler = handler_fn(|request: TaskRequest| async move { Ok(request.input().clone()) });
    let executor = Executor::new(handler).with_clock(Arc::new(VirtualClock::new()));

    let chain = pass_chain();
    let mut group = c.benchmark_group("state_transitions");
    group.throughput(Throughput::Elements(CHAIN as u64));
    group.bench_function("pass_chain_100", |b| {
        b.iter(|| {
            let result = runtime.block_on(executor.run(
                &chain,
                json!({"value": 1}),
                ExecutionOptions::default(),
            ));
            assert_eq!(result.state_transitions, CHAIN as u64);
            black_box(result)
        })
    });

    let map = map_of_tasks();
    let items: Vec<Value> = (0..ITEMS).map(|i| json!({"id": i})).collect();
    let input = json!({ "items": items });
    group.throughput(Throughput::Elements(ITEMS as u64 + 1));
    group.sample_size(20);
    group.bench_function("map_1000_trivial_tasks", |b| {
        b.iter(|| {
            let result =
                runtime.block_on(executor.run(&map, input.clone(), ExecutionOptions::default()));
            assert_eq!(result.state_transitions, ITEMS as u64 + 1);
            black_box(result)
        })
    });
    group.finish();
}

criterion_group!(benches, transitions);
criterion_main!(benches);
