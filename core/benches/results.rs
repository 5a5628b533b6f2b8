//! Per-row cost of mapping a Bulk 2.0 job's results back to input rows (B5 of the benchmark
//! suite): one chunk of 100 000 uploaded rows, its `successfulResults` echoed in reverse order
//! with numbers re-serialised the way Salesforce does, matched by every echoed column (an
//! insert) or by the external id (an upsert), with the outcome files written and synced.
//! This is the phase the raw upload of B2 does not have (`BENCHMARKS.md`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sfscale::bulk::encode::Shapes;
use sfscale::bulk::plan::{Caps, PlanConfig, Planner, RunDir};
use sfscale::bulk::results::{ChunkContext, ChunkResults, ResultKind, RowError};
use sfscale::bulk::Operation;

const ROWS: u64 = 100_000;

const HEADER: [&str; 10] = [
    "External_Id__c",
    "Name",
    "Description",
    "Industry",
    "NumberOfEmployees",
    "AnnualRevenue",
    "BillingCity",
    "BillingCountry",
    "Phone",
    "Website",
];

/// The benchmark suite's row `i`, as uploaded.
fn row(i: u64) -> Vec<String> {
    vec![
        format!("C-{i}"),
        format!("c {i}"),
        format!("row {i} of the benchmark"),
        "Energy".into(),
        i.to_string(),
        format!("{i}.0"),
        "Paris".into(),
        "France".into(),
        "+33 1 23 45 67 89".into(),
        "https://example.com".into(),
    ]
}

/// One planned chunk of `ROWS` rows in `dir`.
fn plan(dir: &RunDir) -> Shapes {
    let shapes = Shapes::single(HEADER.iter().map(|s| s.to_string()).collect());
    let config = PlanConfig {
        caps: Caps {
            rows: ROWS,
            bytes: u64::MAX,
        },
        group_rows: ROWS,
        group_by: None,
        buckets: 1,
        sort_rows: 10,
    };
    let mut planner = Planner::new(dir.clone(), config, shapes, 0).expect("plans");
    for i in 0..ROWS {
        planner.push(i, 0, row(i)).expect("pushes");
    }
    planner.finish().expect("finishes").1
}

/// `successfulResults` in reverse order, numbers re-serialised (`7` → `7.0E0`-style).
fn successful_results() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let head = ["sf__Id", "sf__Created"].into_iter().chain(HEADER);
    w.write_record(head).expect("writes");
    for i in (0..ROWS).rev() {
        let mut fields = row(i);
        fields[4] = format!("{:e}", i as f64);
        fields[5] = i.to_string();
        let id = format!("001M{i:011}AAA");
        let line = [id, "true".into()].into_iter().chain(fields);
        w.write_record(line).expect("writes");
    }
    w.into_inner().expect("flushes")
}

fn map_back(c: &mut Criterion) {
    let scratch = tempfile::tempdir().expect("a temp dir");
    let dir = RunDir(scratch.path().to_path_buf());
    let shapes = plan(&dir);
    let body = successful_results();
    let missing = RowError {
        code: "RESULT_MISSING".into(),
        message: "no result".into(),
        fields: Vec::new(),
    };
    let mut group = c.benchmark_group("bulk_results");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    for (name, operation, external_id) in [
        ("insert_100k_rows_all_columns", Operation::Insert, None),
        (
            "upsert_100k_rows_external_id",
            Operation::Upsert,
            Some("External_Id__c"),
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || ChunkContext {
                    dir: &dir,
                    chunk: 0,
                    shape: 0,
                    shapes: &shapes,
                    operation,
                    external_id,
                    allow_lock_retry: true,
                    on_row: None,
                },
                |ctx| {
                    let mut results = ChunkResults::new(ctx).expect("starts");
                    results
                        .add(ResultKind::Successful, black_box(&body), &missing)
                        .expect("maps");
                    let counts = results.finish(&missing).expect("finishes");
                    assert_eq!(counts.succeeded, ROWS);
                    counts
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, map_back);
criterion_main!(benches);
