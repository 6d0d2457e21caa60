//! Building and serializing the shop template in-process: what `synth` spends besides process start.
//!
//! cargo bench -p synth --bench synth

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use synth::shop::{ShopOptions, WorkflowKind, shop_template};
use synth::{Format, synthesize};

fn benches(criterion: &mut Criterion) {
    let standard = ShopOptions::default();
    let express = ShopOptions {
        workflow: WorkflowKind::Express,
        ..ShopOptions::default()
    };
    criterion.bench_function("build (typed model only)", |bench| {
        bench.iter(|| shop_template(black_box(&standard)).expect("synth"))
    });
    let template = shop_template(&standard).expect("synth");
    criterion.bench_function("check + to_document", |bench| {
        bench.iter(|| black_box(&template).to_document().expect("synth"))
    });
    criterion.bench_function("build + YAML (standard)", |bench| {
        bench.iter(|| synthesize(black_box(&standard), Format::Yaml).expect("synth"))
    });
    criterion.bench_function("build + JSON (standard)", |bench| {
        bench.iter(|| synthesize(black_box(&standard), Format::Json).expect("synth"))
    });
    criterion.bench_function("build + YAML (express)", |bench| {
        bench.iter(|| synthesize(black_box(&express), Format::Yaml).expect("synth"))
    });
}

criterion_group!(synth_benches, benches);
criterion_main!(synth_benches);
