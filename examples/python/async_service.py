"""An asyncio service: webhook events upserted concurrently, a live query, and the client's metrics.

    python async_service.py --emulator target/debug/sfscale-emulator   # a local emulator
    python async_service.py --url https://mydomain.my.salesforce.com  # an org, SFSCALE_* credentials

Hundreds of coroutines share one AsyncClient: one token, one connection pool, and the core's
scheduler and limits guard decide how many calls are in flight. Background work runs at
``background`` priority, so it is the first to stop when the org's daily allocation nears
the reserve; the report at the end comes from ``metrics()`` and the events seen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import sfscale


async def handle_event(client: sfscale.AsyncClient, i: int) -> bool:
    """One webhook: the customer record, upserted by its external id."""
    try:
        await client.upsert(
            "Account", "External_Id__c", f"W-{i:05d}", {"Name": f"Webhook customer {i}"}
        )
        return True
    except sfscale.LimitError:
        return False  # reserve reached: the event goes back to the queue for tomorrow


async def run(client: sfscale.AsyncClient, events: int) -> int:
    seen: list[dict] = []
    client.on_event(seen.append)
    background = client.with_priority("background")
    saved = await asyncio.gather(*(handle_event(background, i) for i in range(events)))
    count = 0
    async for _ in client.query(
        "SELECT Id, Name FROM Account WHERE Name LIKE 'Webhook%'"
    ):
        count += 1
    metrics = client.metrics()
    calls = sum(sum(by_status.values()) for by_status in metrics["requests"].values())
    print(
        f"{sum(saved)}/{events} events saved, {count} customers in Salesforce, {calls} API calls"
    )
    print(
        f"token grants: {client.token_grants}, events: {sorted({e['kind'] for e in seen}) or 'none'}"
    )
    return 0 if count == sum(saved) else 2


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="instance URL (else SFSCALE_INSTANCE_URL)")
    parser.add_argument(
        "--emulator",
        default=os.environ.get("SFSCALE_EMULATOR_BIN"),
        help="emulator binary to start",
    )
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    if args.emulator and not args.url:
        from emulator import CLIENT_ID, CLIENT_SECRET, running

        with running(args.emulator) as url:
            async with sfscale.AsyncClient(
                instance_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
            ) as c:
                return await run(c, args.events)
    async with sfscale.AsyncClient.from_env(instance_url=args.url) as client:
        return await run(client, args.events)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
