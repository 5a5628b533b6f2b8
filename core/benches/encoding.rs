//! Per-row cost of what the bulk engine does to every record before it is uploaded (B5 of the
//! benchmark suite): flattening a 10-field record to CSV text by Salesforce's value rules and
//! encoding the row, plus rendering a UTC datetime as a Salesforce datetime literal.
//! Multiply by the row count to see the encoder's share of a bulk run (`BENCHMARKS.md`).

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::json;
use sfscale::bulk::encode::{flatten, RowEncoder};
use sfscale::bulk::{Operation, Record};
use sfscale::{Cond, Soql};

/// The benchmark suite's row: ten fields of the kinds a typical Account upsert carries.
fn record() -> Record {
    json!({
        "External_Id__c": "B-123456",
        "Name": "u 123456",
        "Description": "row 123456 of the benchmark, with a comma",
        "Industry": "Energy",
        "NumberOfEmployees": 3456,
        "AnnualRevenue": 23456.0,
        "BillingCity": "Paris",
        "BillingCountry": "France",
        "Phone": "+33 1 23 45 67 89",
        "Website": "https://example.com"
    })
    .as_object()
    .expect("an object")
    .clone()
}

fn csv_row(c: &mut Criterion) {
    let rec = record();
    let mut encoder = RowEncoder::default();
    let mut group = c.benchmark_group("bulk_encode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("flatten_and_encode_10_fields", |b| {
        b.iter_batched(
            || rec.clone(),
            |rec| {
                let fields = flatten(black_box(rec), Operation::Upsert).expect("flattens");
                let bytes = encoder
                    .encode(fields.iter().map(|(_, text)| text.as_bytes()))
                    .expect("encodes");
                black_box(bytes)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn datetime_literal(c: &mut Criterion) {
    let at = Utc.with_ymd_and_hms(2026, 11, 27, 3, 45, 12).unwrap();
    c.bench_function("salesforce_datetime_where_clause", |b| {
        b.iter(|| {
            Soql::select(["Id"])
                .from("Account")
                .and(Cond::gt("LastModifiedDate", black_box(at)))
                .build()
                .expect("builds")
        })
    });
}

criterion_group!(encoding, csv_row, datetime_literal);
criterion_main!(encoding);
