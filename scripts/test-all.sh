#!/usr/bin/env bash
# Runs every test of every language, installing what the tests need first.
#
# Rust: format check, clippy with warnings denied, every crate's unit and integration tests
# (the emulator is started in-process on loopback by the tests themselves).
# Python: a private venv with pinned third-party clients (simple-salesforce) that must work
# unmodified against the emulator binary, which the pytest fixtures start and stop.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -q -- -D warnings

step "cargo test (Rust unit, integration and emulator tests)"
cargo test --workspace -q

step "Rust example: a sync against the embedded emulator"
cargo run -q -p sfscale --example sync

step "Python venv for third-party client fidelity tests"
venv="$root/.venv-test"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r emulator/tests/fidelity/requirements.txt

step "simple-salesforce (unmodified) against the emulator binary"
cargo build -q -p sfscale-emulator --bin sfscale-emulator
export SFSCALE_EMULATOR_BIN="$CARGO_TARGET_DIR/debug/sfscale-emulator"
(cd emulator/tests/fidelity && "$venv/bin/python" -m pytest -q -p no:cacheprovider .)

step "Python binding: pip install ./bindings-python, ruff, stubtest, pytest, examples"
"$venv/bin/pip" install -q --disable-pip-version-check -r bindings-python/tests/requirements.txt
# A dev-profile wheel: it shares the debug artifacts cargo just built (users get release).
MATURIN_PEP517_ARGS="--profile dev" \
  "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings-python
"$venv/bin/ruff" check bindings-python examples/python benches/python emulator/tests/fidelity
"$venv/bin/ruff" format --check bindings-python examples/python benches/python emulator/tests/fidelity
(cd bindings-python && "$venv/bin/python" -m mypy.stubtest sfscale)
"$venv/bin/python" -m mypy --cache-dir=/dev/null examples/python
(cd bindings-python && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)
"$venv/bin/python" examples/python/async_service.py --emulator "$SFSCALE_EMULATOR_BIN"
# The ETL sample contains bad rows on purpose: exit 2 means "ran and reported failures".
etl_status=0
"$venv/bin/python" examples/python/nightly_sync.py --emulator "$SFSCALE_EMULATOR_BIN" || etl_status=$?
[ "$etl_status" -eq 2 ] || { echo "nightly_sync.py exited $etl_status, expected 2 (failures reported)"; exit 1; }

step "Node binding: npm ci + napi build in bindings-node, native.d.ts drift, tsc, node --test, example"
(cd bindings-node && npm ci --no-audit --no-fund --loglevel=error && npm run build)
git diff --exit-code -- bindings-node/native.d.ts \
  || { echo "bindings-node/native.d.ts drifted from the crate: run npm run build and commit it"; exit 1; }
(cd bindings-node && npm run typecheck && npm test)
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error)
node examples/node/webhook-server.mjs --emulator "$SFSCALE_EMULATOR_BIN"

step "JVM binding: mvn verify in bindings-jvm (crate, bindgen, Kotlin+Java, JUnit, consumer IT), generated Kotlin drift, Java example"
(cd bindings-jvm && mvn -B -q verify)
git diff --exit-code -- bindings-jvm/src/generated \
  || { echo "bindings-jvm/src/generated drifted from the crate: run mvn -B verify in bindings-jvm and commit it"; exit 1; }
(cd bindings-jvm && mvn -B -q dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile=target/classpath.txt)
java -cp "bindings-jvm/target/sfscale-0.1.0.jar:$(cat bindings-jvm/target/classpath.txt)" \
  examples/java/ScheduledSync.java --emulator "$SFSCALE_EMULATOR_BIN"

step "Benchmark suite smoke run (tiny, debug; checks results, never gates on time)"
"$venv/bin/ruff" check benches/run.py benches/suite
"$venv/bin/ruff" format --check benches/run.py benches/suite
python3 benches/run.py --size tiny
