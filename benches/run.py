#!/usr/bin/env python3
"""The benchmark suite in one command: sfscale side by side with the clients people use today.

    python3 benches/run.py                    # moderate size, debug builds (see BENCHMARKS.md)
    python3 benches/run.py --release          # release builds of the emulator and bindings
    python3 benches/run.py --size tiny        # the CI smoke run: tiny, debug, never gates on time

It installs the peers into a private venv and node_modules (simple-salesforce, jsforce),
builds the emulator and both bindings, starts one emulator (https, latency off, an allocation
too large to hit), runs each pair (B1–B3, B6) alternately side by side with repeats, each side
in its own process on a freshly reset org, runs the criterion benches (B4, B5) and the
emulator's capacity (B7), and prints one table with the machine it ran on. Every side checks
its own result (rows landed, records read); a failed check or a crash exits non-zero. Times
never fail the run. Raw results go to `target/bench/results.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
SIZES = {
    # b1 upsert rows, b2 CSV rows (also run at a fifth, to show RSS stays flat), b3 query
    # records, b6 single writes, repeats, B7 seconds per path
    "tiny": {
        "b1": 2_000,
        "b2": 5_000,
        "b3": 2_000,
        "b6": 200,
        "repeats": 1,
        "seconds": 1,
    },
    "moderate": {
        "b1": 200_000,
        "b2": 1_000_000,
        "b3": 200_000,
        "b6": 10_000,
        "repeats": 3,
        "seconds": 5,
    },
    "full": {
        "b1": 1_000_000,
        "b2": 5_000_000,
        "b3": 200_000,
        "b6": 10_000,
        "repeats": 3,
        "seconds": 5,
    },
}


def sh(
    *cmd: str | Path, cwd: Path = ROOT, env: dict | None = None, capture: bool = False
) -> str:
    """Runs a command, echoing it; a failure ends the suite with the command's status."""
    print("$", " ".join(str(c) for c in cmd), flush=True)
    done = subprocess.run(
        [str(c) for c in cmd],
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(str(c) for c in cmd)}")
    return done.stdout or ""


# ---------------------------------------------------------------------------------------------
# Setup: the machine, the builds, the peers.


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown cpu",
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    load = os.getloadavg()[0]
    versions = ", ".join(
        f"{name} {version(cmd)}"
        for name, cmd in [
            ("rustc", ["rustc", "--version"]),
            ("node", ["node", "--version"]),
        ]
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"{versions}, load average at start {load:.1f}"
    )


def version(cmd: list[str]) -> str:
    out = subprocess.run(
        cmd, check=False, capture_output=True, text=True
    ).stdout.split()
    return out[1] if len(out) > 1 else (out[0] if out else "?")


def build(release: bool) -> tuple[Path, Path]:
    """Builds the emulator and both bindings; returns the emulator binary and the venv python."""
    profile = ["--release"] if release else []
    sh(
        "cargo",
        "build",
        "-q",
        "-p",
        "sfscale-emulator",
        "--bin",
        "sfscale-emulator",
        *profile,
    )
    emulator = TARGET / ("release" if release else "debug") / "sfscale-emulator"
    venv = venv_dir(release)
    if not (venv / "bin" / "python").exists():
        sh(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check"]
    sh(*pip, "-r", ROOT / "emulator" / "tests" / "fidelity" / "requirements.txt")
    # maturin's PEP 517 builds are release builds unless told otherwise.
    maturin = {} if release else {"MATURIN_PEP517_ARGS": "--profile dev"}
    sh(*pip, "--force-reinstall", "--no-deps", ROOT / "bindings-python", env=maturin)
    node = ROOT / "bindings-node"
    sh("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=node)
    sh("npm", "run", "build:release" if release else "build", cwd=node)
    return emulator, venv / "bin" / "python"


def venv_dir(release: bool) -> Path:
    """The peers' venv, with the binding built for the profile (release and debug differ)."""
    return WORK / ("venv-release" if release else "venv")


# ---------------------------------------------------------------------------------------------
# The emulator under test.


class Emulator:
    """The emulator binary on https (simple-salesforce only speaks https), latency off."""

    def __init__(self, binary: Path, scratch: Path) -> None:
        self.ca = str(scratch / "ca.pem")
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--tls-cert-out", self.ca],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        self.url = next(w for w in first.split() if w.startswith("https://")).rstrip(
            "/"
        )
        self.tls = ssl.create_default_context(cafile=self.ca)

    def control(self, method: str, path: str, body: object = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/__emulator/{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, context=self.tls, timeout=600) as response:
            return json.loads(response.read() or b"null")

    def fresh(self, accounts: int = 0) -> None:
        """An empty org with an allocation no run can exhaust, then `accounts` Accounts."""
        self.control("POST", "reset", {})
        self.control("PUT", "limits", {"daily_api_requests": 1_000_000_000})
        for start in range(0, accounts, 20_000):
            batch = [
                {"Name": f"bench {i}", "External_Id__c": f"Q-{i}"}
                for i in range(start, min(accounts, start + 20_000))
            ]
            self.control("POST", "load", {"object": "Account", "records": batch})

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# ---------------------------------------------------------------------------------------------
# Pairs: two sides, run alternately, each in its own process.


@dataclass
class Pair:
    name: str
    what: str
    sides: dict[str, list[str]]  # side -> command (without the side argument)
    accounts: int = 0  # Accounts loaded before each side
    runs: dict[str, list[dict]] = field(default_factory=dict)


def run_pair(pair: Pair, emulator: Emulator, repeats: int, env: dict) -> None:
    """Side A then B, then B then A on the next repeat, so drift hits both equally."""
    order = list(pair.sides)
    pair.runs = {side: [] for side in order}
    for repeat in range(repeats):
        for side in order if repeat % 2 == 0 else order[::-1]:
            emulator.fresh(pair.accounts)
            with tempfile.TemporaryDirectory(dir=WORK) as scratch:
                command = [*pair.sides[side], "--scratch", scratch]
                out = sh(*command, env=env, capture=True).strip().splitlines()[-1]
            result = json.loads(out)
            print(f"  {pair.name} {side}: {result}", flush=True)
            pair.runs[side].append(result)


def py_pair(
    python: Path, emulator: Emulator, case: str, rows: int, csv: Path | None = None
):
    script = ROOT / "benches" / "suite" / "py_case.py"
    base = [str(python), str(script), "--url", emulator.url, "--ca", emulator.ca]
    base += ["--case", case, "--rows", str(rows)] + (["--csv", str(csv)] if csv else [])
    return {side: [*base, "--side", side] for side in ("sfscale", "peer")}


def node_pair(emulator: Emulator, rows: int):
    script = ROOT / "benches" / "suite" / "node_case.mjs"
    base = [
        "node",
        str(script),
        "--url",
        emulator.url,
        "--ca",
        emulator.ca,
        "--rows",
        str(rows),
    ]
    return {side: [*base, "--side", side] for side in ("sfscale", "peer")}


def write_csv(path: Path, rows: int) -> None:
    """The B2 file: the same 10 fields as B1's dicts, as one CSV."""
    if path.exists():
        return
    header = (
        "External_Id__c,Name,Description,Industry,NumberOfEmployees,AnnualRevenue,"
        "BillingCity,BillingCountry,Phone,Website\n"
    )
    with path.open("w") as f:
        f.write(header)
        for i in range(rows):
            f.write(
                f"C-{i},c {i},row {i} of the benchmark,Energy,{i % 5000},{float(i % 100000)},"
                f"Paris,France,+33 1 23 45 67 89,https://example.com\n"
            )


def pairs(python: Path, emulator: Emulator, size: dict) -> list[Pair]:
    csv_small, csv_big = (
        WORK / f"b2-{size['b2'] // 5}.csv",
        WORK / f"b2-{size['b2']}.csv",
    )
    write_csv(csv_small, size["b2"] // 5)
    write_csv(csv_big, size["b2"])
    peer = "simple-salesforce"
    return [
        Pair(
            "B1",
            f"Python bulk upsert, {size['b1']:,} dicts x 10 fields (vs {peer} bulk2)",
            py_pair(python, emulator, "b1", size["b1"]),
        ),
        *(
            Pair(
                "B2",
                f"CSV file to Bulk 2.0, {n:,} rows (vs raw HTTP upload of the same bytes)",
                py_pair(python, emulator, "b2", n, path),
            )
            for n, path in [(size["b2"] // 5, csv_small), (size["b2"], csv_big)]
        ),
        Pair(
            "B3",
            f"Python REST query, {size['b3']:,} records (vs {peer} query_all_iter)",
            py_pair(python, emulator, "b3", size["b3"]),
            accounts=size["b3"],
        ),
        Pair(
            "B3",
            f"Node REST query, {size['b3']:,} records (vs jsforce autoFetch)",
            node_pair(emulator, size["b3"]),
            accounts=size["b3"],
        ),
        Pair(
            "B6",
            f"{size['b6']:,} single-record inserts: queue vs one REST call each",
            py_pair(python, emulator, "b6", size["b6"]),
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Criterion (B4, B5) and the emulator's capacity (B7).


def criterion(smoke: bool) -> list[tuple[str, str, str]]:
    """B4 and B5. The smoke run executes each bench once in test mode (debug) and reports none."""
    benches = ["--bench", "stages", "--bench", "encoding", "--bench", "pipeline"]
    benches += ["--bench", "results"]
    if smoke:
        sh("cargo", "test", "-q", "-p", "sfscale", *benches)
        return []
    sh("cargo", "bench", "-q", "-p", "sfscale", *benches, "--", "--noplot")
    rows = []
    raw = estimate("get_sobject_32_in_flight/raw_reqwest")
    ours = estimate("get_sobject_32_in_flight/sfscale_pipeline")
    rows.append(
        (
            "B4",
            "32 GETs in flight, sfscale pipeline vs raw reqwest (criterion medians, 95% CI)",
            (
                f"{fmt_ns(ours[0])} vs {fmt_ns(raw[0])} per 32; ratio {raw[0] / ours[0]:.2f} "
                f"[{raw[1] / ours[2]:.2f}–{raw[2] / ours[1]:.2f}]"
            ),
        )
    )
    per_row = 100_000  # rows per iteration of core/benches/results.rs
    for name, label, per in [
        ("scheduler_acquire_release", "scheduler decision (acquire + release)", 1),
        ("limits_admit", "limits admission", 1),
        ("classify_lock_error", "classify a lock error", 1),
        ("cache_hit", "cache hit", 1),
        (
            "bulk_encode/flatten_and_encode_10_fields",
            "CSV encoding, one 10-field row",
            1,
        ),
        (
            "salesforce_datetime_where_clause",
            "SOQL with a Salesforce datetime literal",
            1,
        ),
        (
            "bulk_results/insert_100k_rows_all_columns",
            "bulk result mapped back to its row + outcome line, per row (insert: all columns)",
            per_row,
        ),
        (
            "bulk_results/upsert_100k_rows_external_id",
            "bulk result mapped back to its row + outcome line, per row (upsert: external id)",
            per_row,
        ),
    ]:
        point, low, high = (v / per for v in estimate(name))
        rows.append(("B5", label, f"{fmt_ns(point)} [{fmt_ns(low)}–{fmt_ns(high)}]"))
    return rows


def estimate(name: str) -> tuple[float, float, float]:
    data = json.loads(
        (TARGET / "criterion" / name / "new" / "estimates.json").read_text()
    )
    median = data["median"]
    ci = median["confidence_interval"]
    return median["point_estimate"], ci["lower_bound"], ci["upper_bound"]


def fmt_ns(ns: float) -> str:
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def capacity(release: bool, seconds: int) -> list[tuple[str, str, str]]:
    """B7: requests per second the emulator serves (in-process, 32 keep-alive clients)."""
    profile = ["--release"] if release else []
    rows = []
    for path, label in [
        ("limits", "GET /limits"),
        (
            "query?q=SELECT+Id,Name,External_Id__c+FROM+Account",
            "B3's query, one 2 000-record page per response",
        ),
    ]:
        out = sh(
            "cargo", "run", "-q", "-p", "sfscale-emulator", *profile, "--example", "throughput",
            "--", "--seconds", str(seconds), "--path", path, "--accounts", "2000",
            capture=True,
        )  # fmt: skip
        print(out, end="")
        rate = next(line for line in out.splitlines() if line.startswith("ok:"))
        ok, failed = (
            int(part.split(":")[1].split(",")[0]) for part in rate.split(", ")[:2]
        )
        if not ok:
            raise SystemExit(f"B7 {path}: no request succeeded ({failed} failed)")
        # Failures here are 2 s client timeouts on an overloaded machine: reported, not fatal.
        cell = rate.split("rate: ")[1] + (f" ({failed} timed out)" if failed else "")
        rows.append(("B7", f"emulator capacity, {label}, 32 clients", cell))
    return rows


# ---------------------------------------------------------------------------------------------
# The table.


def summarize(pair: Pair) -> tuple[str, str, str]:
    ours, theirs = pair.runs["sfscale"], pair.runs["peer"]
    if pair.name == "B6":
        calls = [t["api_calls"] / max(o["api_calls"], 1) for o, t in zip(ours, theirs)]
        cell = (
            f"API calls {med(ours, 'api_calls'):.0f} vs {med(theirs, 'api_calls'):.0f}; "
            f"{spread(calls)} fewer; time {med(ours, 'seconds'):.2f} s vs "
            f"{med(theirs, 'seconds'):.2f} s"
        )
        return pair.name, pair.what, cell
    ratios = [t["seconds"] / o["seconds"] for o, t in zip(ours, theirs)]
    cell = (
        f"{med(ours, 'seconds'):.2f} s vs {med(theirs, 'seconds'):.2f} s; ratio {spread(ratios)}; "
        f"peak RSS {med(ours, 'peak_rss_mb'):.0f} vs {med(theirs, 'peak_rss_mb'):.0f} MB; "
        f"API calls {med(ours, 'api_calls'):.0f} vs {med(theirs, 'api_calls'):.0f}"
    )
    return pair.name, pair.what, cell


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x (min {min(values):.2f}, max {max(values):.2f})"


def print_table(host: str, settings: str, rows: list[tuple[str, str, str]]) -> None:
    print("\n## sfscale benchmark results")
    print(f"machine: {host}")
    print(f"run: {settings}")
    print(
        "pairs: sfscale first vs peer; ratio = peer time / sfscale time (above 1: sfscale faster)\n"
    )
    print("| # | what | result |")
    print("|---|---|---|")
    for name, what, cell in rows:
        print(f"| {name} | {what} | {cell} |")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="moderate")
    parser.add_argument("--repeats", type=int, help="override the size's repeat count")
    parser.add_argument(
        "--release", action="store_true", help="release builds (not for CI)"
    )
    parser.add_argument("--only", help="comma-separated pair names to run, e.g. B1,B3")
    parser.add_argument(
        "--no-build", action="store_true", help="reuse the last build and venv"
    )
    args = parser.parse_args()
    size = SIZES[args.size]
    repeats = args.repeats or size["repeats"]
    smoke = args.size == "tiny"
    WORK.mkdir(parents=True, exist_ok=True)
    host = machine()
    if args.no_build:
        emulator_bin = (
            TARGET / ("release" if args.release else "debug") / "sfscale-emulator"
        )
        python = venv_dir(args.release) / "bin" / "python"
    else:
        emulator_bin, python = build(args.release)
    only = set(args.only.upper().split(",")) if args.only else None
    rows: list[tuple[str, str, str]] = []
    started = time.time()
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        emulator = Emulator(emulator_bin, Path(scratch))
        env = {"NODE_EXTRA_CA_CERTS": emulator.ca}
        try:
            for pair in pairs(python, emulator, size):
                if only is None or pair.name in only:
                    print(f"\n==> {pair.name}: {pair.what}", flush=True)
                    run_pair(pair, emulator, repeats, env)
                    rows.append(summarize(pair))
        finally:
            emulator.stop()
    if only is None or "B4" in only or "B5" in only:
        rows += criterion(smoke)
    if only is None or "B7" in only:
        rows += capacity(args.release, size["seconds"])
    settings = (
        f"size {args.size}, {repeats} repeat(s), {'release' if args.release else 'debug'} builds "
        f"of the emulator and bindings (criterion: bench profile), "
        f"{time.time() - started:.0f} s"
    )
    print_table(host, settings, rows)
    (WORK / "results.json").write_text(
        json.dumps({"machine": host, "run": settings, "rows": rows})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
