"""client.queue: durable write-behind writes, coalesced, with outcomes and dead letters."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import sfscale
from conftest import Emulator, wait_for


def test_writes_are_coalesced_and_every_outcome_is_reported(
    client: sfscale.Client, fresh: Emulator, tmp_path: Path
) -> None:
    outcomes: list[dict] = []
    with client.queue(tmp_path / "queue.sqlite") as queue:
        queue.on_outcome(outcomes.append)
        tickets = [
            queue.enqueue(
                "Account", "upsert", {"Name": f"q-{i}", "External_Id__c": f"q-{i}"}, external_id="External_Id__c"
            )
            for i in range(500)
        ]
        assert tickets == sorted(tickets) and len(set(tickets)) == 500
        queue.flush()
        assert queue.stats()["depth"] == 0
    assert fresh.stats()["records"]["Account"] == 500
    assert fresh.stats()["api_requests"] < 100, "500 writes coalesced, not one call each"
    wait_for(lambda: len(outcomes) == 500, "every outcome")
    assert {o["outcome"]["kind"] for o in outcomes} == {"delivered"}
    with pytest.raises(sfscale.SfscaleError):
        queue.enqueue("Account", "insert", {"Name": "after close"})


def test_refused_writes_become_dead_letters_and_replay(client: sfscale.Client, fresh: Emulator, tmp_path: Path) -> None:
    with client.queue(tmp_path / "queue.sqlite", linger=0.01) as queue:
        queue.enqueue("Account", "insert", {"Description": "no name"})
        queue.flush()
        (letter,) = queue.dead_letters()
        assert letter["error"]["code"] == "REQUIRED_FIELD_MISSING"
        assert queue.stats()["dead_letters"] == 1
        queue.replay(letter["ticket"], {"Name": "fixed", "Description": "now named"})
        queue.flush()
        assert queue.dead_letters() == []
    assert fresh.stats()["records"]["Account"] == 1


def test_bad_queue_options_are_named(client: sfscale.Client, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="no_such"):
        client.queue(tmp_path / "q.sqlite", no_such=1)
    with pytest.raises(ValueError, match="when_full"):
        client.queue(tmp_path / "q.sqlite", when_full="explode")


def test_async_queue(fresh: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with sfscale.AsyncClient(**fresh.options()) as client:
            async with await client.queue(tmp_path / "queue.sqlite", linger=0.01) as queue:
                await asyncio.gather(*(queue.enqueue("Account", "insert", {"Name": f"a-{i}"}) for i in range(50)))
                await queue.flush()
                assert queue.stats()["delivered"] == 50

    asyncio.run(main())
    assert fresh.stats()["records"]["Account"] == 50
