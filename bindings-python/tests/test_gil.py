"""The sync client releases the GIL while Rust waits, so other Python threads keep running."""

from __future__ import annotations

import _thread
import threading

import pytest

import sfscale
from conftest import Emulator, accounts, wait_for


def watch_in_flight(emulator: Emulator, done: threading.Event, seen: list[bool]) -> threading.Thread:
    """A thread that records whether it saw a request in flight before ``done`` was set.

    It needs the GIL to run at all: if the main thread held the GIL for the whole blocking
    call, this thread could only run between requests, when none is in flight.
    """

    def run() -> None:
        while not done.is_set():
            if emulator.stats()["in_flight"] >= 1 and not done.is_set():
                seen.append(True)
                return

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_thread_runs_while_a_query_waits(fresh: Emulator) -> None:
    fresh.load("Account", accounts("gil", 600))
    fresh.faults({"seed": 1, "rules": [{"route": "query", "share": 1.0, "effect": "delay:300"}]})
    done, seen = threading.Event(), []
    with sfscale.Client(**fresh.options(query_batch_size=200)) as client:
        watcher = watch_in_flight(fresh, done, seen)
        rows = list(client.query("SELECT Id FROM Account"))
        done.set()
        watcher.join()
    assert len(rows) == 600
    assert seen == [True]


def test_a_thread_runs_while_a_bulk_job_runs(fresh: Emulator, tmp_path) -> None:  # noqa: ANN001
    fresh.faults({"seed": 1, "rules": [{"route": "bulk", "share": 1.0, "effect": "delay:200"}]})
    done, seen = threading.Event(), []
    with sfscale.Client(**fresh.options()) as client:
        watcher = watch_in_flight(fresh, done, seen)
        result = client.bulk.with_work_dir(tmp_path).ingest(
            "Account", "insert", ({"Name": f"b-{i}"} for i in range(500)), poll_interval=(0.02, 0.1)
        )
        done.set()
        watcher.join()
    assert result["rows_succeeded"] == 500
    assert seen == [True]


def test_ctrl_c_interrupts_a_blocking_call_and_drops_it(private_emulator: Emulator) -> None:
    emu = private_emulator
    with sfscale.Client(**emu.options()) as client:
        client.limits()  # token and limits figure obtained before the slow call
        emu.faults({"seed": 1, "rules": [{"route": "query", "share": 1.0, "effect": "delay:30000"}]})

        def interrupt_once_in_flight() -> None:
            wait_for(lambda: emu.stats()["in_flight"] >= 1, "the slow call to reach the emulator")
            _thread.interrupt_main()

        interrupter = threading.Thread(target=interrupt_once_in_flight)
        interrupter.start()
        with pytest.raises(KeyboardInterrupt):
            list(client.query("SELECT Id FROM Account"))
        interrupter.join()
    # Well before the 30 s delay would have ended the call.
    wait_for(lambda: emu.stats()["in_flight"] == 0, "the interrupted request to end", limit=10)


def test_threads_share_one_client(fresh: Emulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with sfscale.Client(**fresh.options()) as client, ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lambda i: client.create("Account", {"Name": f"t-{i}"}), range(200)))
        assert len(set(ids)) == 200
        assert client.token_grants == 1
    assert fresh.stats()["records"]["Account"] == 200
