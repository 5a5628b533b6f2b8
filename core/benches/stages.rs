//! Per-stage overhead of the pipeline's policy decisions, without any I/O:
//! a scheduler acquire + release, a limits admission, one classification, and a cache hit.
//! Whole-pipeline overhead against raw reqwest lives with the pipeline's own bench.

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion};
use reqwest::header::HeaderMap;
use sfscale::cache::{CacheConfig, EntryKind, ResponseCache};
use sfscale::error::Error;
use sfscale::limits::{LimitsConfig, LimitsGuard, Usage};
use sfscale::observe::{Allocation, EventBus, Metrics};
use sfscale::retry::{classify, CallSafety, Outcome};
use sfscale::scheduler::{CostClass, Priority, Scheduler, SchedulerConfig};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

fn scheduler_decision(c: &mut Criterion) {
    let rt = runtime();
    let scheduler = Scheduler::new(SchedulerConfig::default()).expect("valid");
    c.bench_function("scheduler_acquire_release", |b| {
        b.to_async(&rt).iter(|| async {
            let permit = scheduler
                .acquire(Priority::Normal, CostClass::Normal)
                .await
                .expect("permit");
            black_box(&permit);
        })
    });
}

fn limits_admission(c: &mut Criterion) {
    let rt = runtime();
    let guard = LimitsGuard::new(LimitsConfig::default(), EventBus::default(), Metrics::new())
        .expect("valid");
    guard.observe(
        Allocation::ApiRequests,
        Usage {
            used: 1_000,
            max: 100_000,
        },
    );
    c.bench_function("limits_admit", |b| {
        b.to_async(&rt).iter(|| async {
            let admission = guard.admit(Priority::Normal, 1).await.expect("admitted");
            black_box(&admission);
        })
    });
}

fn classification(c: &mut Criterion) {
    let headers = HeaderMap::new();
    let body = br#"[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]"#;
    c.bench_function("classify_lock_error", |b| {
        b.iter(|| {
            let outcome = Outcome::Response {
                status: 400,
                headers: &headers,
                body,
            };
            black_box(classify(
                &outcome,
                CallSafety::IDEMPOTENT,
                SystemTime::UNIX_EPOCH,
            ))
        })
    });
}

fn cache_hit(c: &mut Criterion) {
    let rt = runtime();
    let cache: ResponseCache =
        ResponseCache::new(CacheConfig::default(), Metrics::new()).expect("valid");
    rt.block_on(cache.get_or_load("Account", EntryKind::Describe, async {
        Ok(serde_json::json!({"name": "Account"}))
    }))
    .expect("loaded");
    c.bench_function("cache_hit", |b| {
        b.to_async(&rt).iter(|| async {
            let value = cache
                .get_or_load("Account", EntryKind::Describe, async {
                    Err(Error::network("the cache was cold"))
                })
                .await
                .expect("hit");
            black_box(value);
        })
    });
}

criterion_group!(
    stages,
    scheduler_decision,
    limits_admission,
    classification,
    cache_hit
);
criterion_main!(stages);
