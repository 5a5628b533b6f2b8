"""AsyncClient: awaitables on the core's runtime, `async for`, cancellation, `async with`."""

from __future__ import annotations

import asyncio

import pytest

import sfscale
from conftest import Emulator, accounts


async def poll(condition, what: str, limit: float = 20.0):  # noqa: ANN001, ANN201
    """Awaits ``condition()`` (run in a thread) until truthy; fails naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        value = await asyncio.to_thread(condition)
        if value:
            return value
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_async_operations_and_async_for(fresh: Emulator) -> None:
    fresh.load("Account", accounts("a", 450))

    async def main() -> None:
        async with sfscale.AsyncClient(**fresh.options(query_batch_size=200)) as client:
            names = [r["Name"] async for r in client.query("SELECT Name FROM Account")]
            assert len(names) == 450
            new_id = await client.create("Account", {"Name": "async"})
            await client.update("Account", new_id, {"Name": "async 2"})
            assert (await client.get("Account", new_id))["Name"] == "async 2"
            upserted = await client.upsert("Account", "External_Id__c", "a-1", {"Name": "changed"})
            assert upserted["created"] is False
            results = await client.create_many("Account", [{"Name": f"m-{i}"} for i in range(3)])
            assert all(r["success"] for r in results)
            assert "fields" in await client.describe("Account")
            assert "DailyApiRequests" in await client.limits()
            await client.delete("Account", new_id)
            with pytest.raises(sfscale.NotFoundError):
                await client.get("Account", new_id)
            assert client.metrics()["requests"]
        with pytest.raises(sfscale.InvalidInputError, match="closed"):
            await client.limits()

    asyncio.run(main())


def test_concurrent_awaits_share_one_token(fresh: Emulator) -> None:
    async def main() -> None:
        async with sfscale.AsyncClient(**fresh.options()) as client:
            ids = await asyncio.gather(*(client.create("Account", {"Name": f"c-{i}"}) for i in range(50)))
            assert len(set(ids)) == 50
            assert client.token_grants == 1

    asyncio.run(main())


def test_cancelling_an_awaited_call_drops_the_request(private_emulator: Emulator) -> None:
    fresh = private_emulator

    async def main() -> None:
        async with sfscale.AsyncClient(**fresh.options()) as client:
            await client.limits()
            fresh.faults({"seed": 1, "rules": [{"route": "query", "share": 1.0, "effect": "delay:30000"}]})
            task = asyncio.ensure_future(client.query_cached("SELECT Id FROM Account", 60.0))
            await poll(lambda: fresh.stats()["in_flight"] >= 1, "the query to reach the emulator")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The Rust future was dropped: its connection closed, so the emulator's handler
            # ended well before the 30 s delay would have.
            await poll(lambda: fresh.stats()["in_flight"] == 0, "the cancelled request to end", limit=10)
            requests = fresh.stats()["requests_by_route"]["query"]
            await asyncio.sleep(0.2)
            assert fresh.stats()["requests_by_route"]["query"] == requests, "the call was retried after cancel"

    asyncio.run(main())


def test_async_iteration_stops_at_the_first_error(fresh: Emulator) -> None:
    async def main() -> None:
        async with sfscale.AsyncClient(**fresh.options()) as client:
            with pytest.raises(sfscale.InvalidInputError):
                async for _ in client.query("SELECT Nope__c FROM Account"):
                    pass

    asyncio.run(main())
