"""The Python runner of the cross-language scenarios in ``tests/scenarios/*.json``.

The format is documented in ``tests/scenarios/README.md``; the Rust runner is
``core/tests/scenarios.rs``, and this one passes the same files unchanged, with the same
assertions. Each scenario runs on a fresh emulator process (and, for ``"baseline": true``,
first on another one without faults). Concurrent calls run as asyncio tasks on one
``AsyncClient``, bounded by the step's ``concurrency``.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import sfscale
from conftest import JWT_KEY, PASSWORD, ROOT, USERNAME, Emulator, accounts

SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.json"))


class Run:
    """Final stats, stats at each mark, and client-side results of one run."""

    def __init__(self) -> None:
        self.stats: dict[str, Any] = {}
        self.marks: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, dict[str, Any]] = {}

    def record(self, step: str, error: sfscale.SfscaleError | None) -> None:
        results = self.steps.setdefault(step, {"ok": 0, "failed": 0, "failed_by_code": defaultdict(int)})
        if error is None:
            results["ok"] += 1
        else:
            results["failed"] += 1
            results["failed_by_code"][error.code] += 1

    def calls(self) -> dict[str, Any]:
        total: dict[str, Any] = {"ok": 0, "failed": 0, "failed_by_code": defaultdict(int)}
        for results in self.steps.values():
            total["ok"] += results["ok"]
            total["failed"] += results["failed"]
            for code, n in results["failed_by_code"].items():
                total["failed_by_code"][code] += n
        return {**total, **self.steps}


def client_options(emu: Emulator, setup: dict[str, Any]) -> dict[str, Any]:
    grant = setup.get("grant", "client_credentials")
    options = emu.options()
    if grant == "password":
        options.update(username=USERNAME, password=PASSWORD)
    elif grant == "jwt":
        options.update(username=USERNAME, private_key_file=str(JWT_KEY))
    elif grant != "client_credentials":
        raise ValueError(f"unknown grant {grant}")
    simple = ("reserve", "pace_band", "long_running_cap", "retry_max_attempts", "query_batch_size")
    options.update({key: setup[key] for key in simple if key in setup})
    if "concurrency" in setup:
        options["concurrency"] = tuple(setup["concurrency"])
    if "retry_backoff_ms" in setup:
        base, cap = setup["retry_backoff_ms"]
        options["retry_backoff"] = (base / 1000, cap / 1000)
    return options


def fill(template: dict[str, Any], i: int, j: int) -> dict[str, Any]:
    return {
        k: v.replace("{i}", str(i)).replace("{j}", str(j)) if isinstance(v, str) else v for k, v in template.items()
    }


def first_failure(results: list[dict[str, Any]]) -> sfscale.SfscaleError | None:
    return next((r["error"] for r in results if r["error"] is not None), None)


async def one_call(client: sfscale.AsyncClient, step: dict[str, Any], i: int, work_dir: Path) -> None:
    call = step["call"]
    if call == "query":
        async for _ in client.query(step["soql"]):
            pass
    elif call == "create":
        await client.create(step["object"], fill(step["record"], i, 0))
    elif call == "upsert":
        record = fill(step["record"], i, 0)
        field = step["external_id_field"]
        await client.upsert(step["object"], field, record[field], record)
    elif call == "upsert_many":
        rows = [fill(step["record"], i, j) for j in range(step.get("records", 200))]
        results = await client.upsert_many(step["object"], step["external_id_field"], rows)
        error = first_failure(results)
        if error is not None:
            raise error
    elif call == "limits":
        await client.limits()
    elif call == "describe":
        await client.describe(step["object"])
    elif call == "bulk_ingest":
        await bulk_ingest(client, step, i, work_dir)
    elif call == "queue":
        await queue_writes(client, step, i, work_dir)
    else:
        raise ValueError(f"unknown call {call}")


async def bulk_ingest(client: sfscale.AsyncClient, step: dict[str, Any], i: int, work_dir: Path) -> None:
    rows = (fill(step["record"], i, j) for j in range(step.get("records", 1000)))
    result = await client.bulk.with_work_dir(work_dir).ingest(
        step["object"], step.get("operation", "insert"), rows, external_id=step.get("external_id_field")
    )
    if result["rows_failed"]:
        first = result["failures"][0]
        raise failure_error(first["error"], first["row"], "bulk.ingest", step["object"])


async def queue_writes(client: sfscale.AsyncClient, step: dict[str, Any], i: int, work_dir: Path) -> None:
    """Single-record enqueues (64 in flight) on a fresh journal, then flush and close."""
    operation = step.get("operation", "upsert")
    queue = await client.queue(work_dir / f"queue-{step['name']}-{i}.sqlite")
    gate = asyncio.Semaphore(64)

    async def enqueue(j: int) -> None:
        async with gate:
            await queue.enqueue(
                step["object"], operation, fill(step["record"], i, j), external_id=step.get("external_id_field")
            )

    await asyncio.gather(*(enqueue(j) for j in range(step.get("records", 1000))))
    await queue.flush()
    dead = await queue.dead_letters(0, 1)
    await queue.close()
    if dead:
        raise failure_error(dead[0]["error"], None, "queue", step["object"])


def failure_error(error: dict[str, Any], row: int | None, operation: str, object: str) -> sfscale.SfscaleError:
    """A per-row failure report as the exception the step records."""
    return sfscale.errors._from_core(
        kind="Salesforce",
        code=error["code"],
        message=error["message"],
        status=None,
        fields=error["fields"],
        row=row,
        retryable=False,
        operation=operation,
        object=object,
        text=error["message"],
    )


async def run_calls(client: sfscale.AsyncClient, step: dict[str, Any], run: Run, work_dir: Path) -> None:
    handle = client.with_priority(step.get("priority", "normal"))
    if step.get("long_running"):
        handle = handle.long_running()
    gate = asyncio.Semaphore(step.get("concurrency", 1))

    async def guarded(i: int) -> None:
        async with gate:
            try:
                await one_call(handle, step, i, work_dir)
            except sfscale.SfscaleError as error:
                run.record(step["name"], error)
            else:
                run.record(step["name"], None)

    await asyncio.gather(*(guarded(i) for i in range(step.get("count", 1))))


def control(emu: Emulator, step: dict[str, Any], run: Run) -> None:
    kind = step["control"]
    if kind == "expire_sessions":
        emu.expire_sessions()
    elif kind == "faults":
        emu.faults(step["body"])
    elif kind == "limits":
        emu.limits(step["body"])
    elif kind == "mark":
        run.marks[step["name"]] = emu.stats()
    else:
        raise ValueError(f"unknown control step {kind}")


def run_scenario(scenario: dict[str, Any], with_faults: bool) -> Run:
    emu = Emulator()
    try:
        setup = scenario.get("emulator", {})
        if "limits" in setup:
            emu.limits(setup["limits"])
        for load in setup.get("load", []):
            emu.load(load["object"], accounts(load["prefix"], load["count"]))
        if with_faults and "faults" in setup:
            emu.faults(setup["faults"])
        run = Run()

        async def steps() -> None:
            with tempfile.TemporaryDirectory() as work_dir:
                async with sfscale.AsyncClient(**client_options(emu, scenario.get("client", {}))) as client:
                    for step in scenario["steps"]:
                        if "control" in step:
                            await asyncio.to_thread(control, emu, step, run)
                        else:
                            await run_calls(client, step, run, Path(work_dir))

        asyncio.run(steps())
        run.stats = emu.stats()
        return run
    finally:
        emu.stop()


def lookup(run: Run, path: str, stats: dict[str, Any] | None = None) -> float:
    if path.startswith("calls."):
        root: Any = run.calls()
        path = path[len("calls.") :]
    else:
        root = run.stats if stats is None else stats
    for key in path.split("."):
        root = root.get(key) if isinstance(root, dict) else None
    return float(root) if isinstance(root, (int, float)) and not isinstance(root, bool) else 0.0


def check(assertion: str, run: Run, baseline: Run | None) -> str | None:
    tokens = assertion.split(" ")
    if len(tokens) >= 3 and tokens[1] == "since":
        path, mark, rest = tokens[0], tokens[2], tokens[3:]
        if mark not in run.marks:
            return f"no mark named {mark}"
        lhs = lookup(run, path) - lookup(run, path, run.marks[mark])
    else:
        path, rest = tokens[0], tokens[1:]
        lhs = lookup(run, path)

    def base(p: str) -> float:
        if baseline is None:
            raise ValueError('baseline.* needs "baseline": true')
        return lookup(baseline, p.removeprefix("baseline."))

    if len(rest) == 2:
        op, value = rest
        rhs = base(value) if value.startswith("baseline.") else float(value)
    elif len(rest) == 4 and rest[2] == "*":
        op, rhs = rest[0], float(rest[1]) * base(rest[3])
    else:
        return f"cannot parse '{assertion}'"
    holds = {
        "==": lhs == rhs,
        "!=": lhs != rhs,
        "<=": lhs <= rhs,
        ">=": lhs >= rhs,
        "<": lhs < rhs,
        ">": lhs > rhs,
    }.get(op)
    if holds is None:
        return f"unknown operator {op}"
    return None if holds else f"'{assertion}' failed: left side is {lhs}, right side {rhs}"


def test_the_scenario_files_are_there() -> None:
    assert len(SCENARIOS) >= 4, SCENARIOS


def test_assertions_parse_and_compare() -> None:
    run, base = Run(), Run()
    run.stats = {"token_grants": {"total": 3}, "api_requests": 110}
    run.marks = {"m": {"token_grants": {"total": 2}}}
    run.record("storm", None)
    base.stats = {"api_requests": 100}
    for good in [
        "token_grants.total since m == 1",
        "calls.storm.ok == 1",
        "api_requests <= 1.2 * baseline.api_requests",
    ]:
        assert check(good, run, base) is None, good
    for bad in [
        "token_grants.total == 1",
        "api_requests <= 1.05 * baseline.api_requests",
        "calls.ok ~ 1",
        "x since no == 1",
    ]:
        assert check(bad, run, base) is not None, bad


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_holds(path: Path) -> None:
    scenario = json.loads(path.read_text())
    baseline = run_scenario(scenario, with_faults=False) if scenario.get("baseline") else None
    run = run_scenario(scenario, with_faults=True)
    failures = [f for f in (check(a, run, baseline) for a in scenario["assert"]) if f]
    assert not failures, f"{scenario['name']}: {failures}\nstats: {run.stats}\ncalls: {run.calls()}"
