//! Engine and scripted-run throughput (issue 5): `cargo bench -p fishbanks-benches`.
//!
//! - `engine_step/6_teams`: one year of the rules for six teams (6 agent-years).
//! - `scripted_run/<protocol>`: a whole 20-year run of six scripted agents through the real
//!   game loop, protocol phases included (120 agent-years).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fishbanks::engine::{step, Decision, GameParams, State};
use fishbanks::experiment::{runner, Experiment};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

fn engine_step(c: &mut Criterion) {
    let params = GameParams::default();
    let state = State::initial(&params, 6);
    let decisions = [Decision {
        order: 1,
        deep: 3,
        coast: 1,
    }; 6];
    let quotas = [None, Some(60), None, None, Some(40), None];
    let mut group = c.benchmark_group("engine_step");
    group.throughput(Throughput::Elements(6));
    group.bench_function("6_teams", |b| {
        b.iter(|| {
            step(
                black_box(&params),
                black_box(&state),
                black_box(&decisions),
                black_box(&quotas),
            )
        })
    });
    group.finish();
}

const EXPERIMENT: &str = r#"
name = "bench"
years = 20
seeds = 1
[populations.mixed]
agents = [
  { strategy = "greedy", count = 2, tremble = 0.1 },
  { strategy = "reciprocal", count = 2, tremble = 0.1 },
  { strategy = "quota_follower", count = 2, tremble = 0.1 },
]
[protocols.none]
kind = "none"
[protocols.broadcast]
kind = "broadcast"
[protocols.quota]
kind = "quota"
[protocols.ledger]
kind = "ledger"
[matrix]
protocol = ["none", "broadcast", "quota", "ledger"]
population = ["mixed"]
"#;

fn scripted_run(c: &mut Criterion) {
    let path = Path::new("bench.toml");
    let exp = Experiment::parse(path, EXPERIMENT).expect("the benchmark experiment is valid");
    let params = Arc::new(exp.config.game.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("scripted_run");
    group.throughput(Throughput::Elements(20 * 6));
    for spec in &exp.plan.runs {
        group.bench_function(spec.label.protocol.as_str(), |b| {
            b.iter(|| {
                runtime.block_on(runner::play_run(
                    spec.clone(),
                    Arc::clone(&params),
                    Default::default(),
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, engine_step, scripted_run);
criterion_main!(benches);
