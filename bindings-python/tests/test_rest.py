"""The sync client's REST operations against the emulator."""

from __future__ import annotations

import logging

import pytest

import sfscale
from conftest import Emulator, accounts, wait_for


def test_create_get_update_delete_round_trip(client: sfscale.Client) -> None:
    account_id = client.create("Account", {"Name": "Acme", "NumberOfEmployees": 12})
    assert isinstance(account_id, str) and len(account_id) == 18
    record = client.get("Account", account_id, ["Name", "NumberOfEmployees"])
    assert (record["Name"], record["NumberOfEmployees"]) == ("Acme", 12)
    client.update("Account", account_id, {"Name": "Acme 2"})
    assert client.get("Account", account_id)["Name"] == "Acme 2"
    client.delete("Account", account_id)
    with pytest.raises(sfscale.NotFoundError) as caught:
        client.get("Account", account_id)
    assert caught.value.status == 404


def test_upsert_creates_then_updates(client: sfscale.Client) -> None:
    first = client.upsert("Account", "External_Id__c", "ext-1", {"Name": "One"})
    second = client.upsert("Account", "External_Id__c", "ext-1", {"Name": "One again"})
    assert first["created"] is True and second["created"] is False
    assert first["id"] == second["id"]


def test_query_streams_every_page(fresh: Emulator) -> None:
    fresh.load("Account", accounts("page", 450))
    with sfscale.Client(**fresh.options(query_batch_size=200)) as client:
        names = [r["Name"] for r in client.query("SELECT Id, Name FROM Account")]
    assert sorted(names) == sorted(f"page-{i}" for i in range(450))
    assert fresh.stats()["requests_by_route"]["query"] >= 3


def test_a_finished_or_failed_query_stays_finished(client: sfscale.Client, fresh: Emulator) -> None:
    fresh.load("Account", accounts("done", 3))
    rows = client.query("SELECT Id FROM Account")
    assert len(list(rows)) == 3
    assert next(rows, None) is None
    failed = client.query("SELECT Nope__c FROM Account")
    with pytest.raises(sfscale.InvalidInputError):
        next(failed)
    assert next(failed, None) is None


def test_query_stops_fetching_when_the_loop_stops(fresh: Emulator) -> None:
    fresh.load("Account", accounts("early", 1000))
    with sfscale.Client(**fresh.options(query_batch_size=200)) as client:
        before = fresh.stats()["requests_by_route"].get("query", 0)
        rows = client.query("SELECT Id FROM Account")
        first = next(rows)
        assert "Id" in first
        del rows
        # The page being read, and at most the next one (requested while the first was converted).
        assert fresh.stats()["requests_by_route"]["query"] - before <= 2


def test_query_cached_loads_once(client: sfscale.Client, fresh: Emulator) -> None:
    fresh.load("Account", accounts("ref", 3))
    soql = "SELECT Id, Name FROM Account"
    first = client.query_cached(soql, 60.0)
    second = client.query_cached(soql, 60.0)
    assert len(first) == len(second) == 3
    assert fresh.stats()["requests_by_route"]["query"] == 1


def test_collections_report_every_row_with_its_error(client: sfscale.Client) -> None:
    rows = [{"Name": f"c-{i}", "External_Id__c": f"c-{i}"} for i in range(250)]
    rows[7] = {"External_Id__c": "c-7"}  # Name is required
    results = client.create_many("Account", rows)
    assert len(results) == 250
    failed = [r for r in results if not r["success"]]
    assert [r["index"] for r in failed] == [7]
    error = failed[0]["error"]
    assert isinstance(error, sfscale.SfscaleError)
    assert (error.row, error.code) == (7, failed[0]["errors"][0]["status_code"])
    ids = [r["id"] for r in results if r["success"]]
    updated = client.update_many("Account", [{"Id": i, "Name": "renamed"} for i in ids[:5]])
    assert all(r["success"] for r in updated)
    upserted = client.upsert_many("Account", "External_Id__c", [{"External_Id__c": "c-1", "Name": "again"}])
    assert upserted[0]["created"] is False
    deleted = client.delete_many(ids)
    assert len(deleted) == 249 and all(r["success"] for r in deleted)


def test_composite_runs_subrequests_with_references(client: sfscale.Client) -> None:
    responses = client.composite(
        [
            {"method": "POST", "url": "sobjects/Account", "reference_id": "acct", "body": {"Name": "Parent"}},
            {"method": "GET", "url": "sobjects/Account/@{acct.id}", "reference_id": "read"},
        ]
    )
    assert [r["status"] for r in responses] == [201, 200]
    assert responses[1]["body"]["Name"] == "Parent"


def test_describe_is_cached_and_limits_are_read(client: sfscale.Client, fresh: Emulator) -> None:
    described = client.describe("Account")
    assert any(f["name"] == "Name" for f in described["fields"])
    client.describe("Account")
    assert fresh.stats()["requests_by_route"].get("describe", 0) <= 1
    assert any(o["name"] == "Account" for o in client.describe()["sobjects"])
    limits = client.limits()
    assert limits["DailyApiRequests"]["max"] == 100_000
    assert 0 < limits["DailyApiRequests"]["remaining"] <= 100_000


def test_soql_builder_escapes_bound_values(client: sfscale.Client) -> None:
    client.create("Account", {"Name": "O'Brien"})
    client.create("Account", {"Name": "other"})
    hostile = "x' OR Name != '"
    assert list(client.query(str(sfscale.soql("Account", ["Id"]).where_eq("Name", hostile)))) == []
    query = sfscale.soql("Account", ["Name"]).where_eq("Name", "O'Brien").order_by("Name", descending=True).limit(5)
    assert [r["Name"] for r in client.query(query.build())] == ["O'Brien"]
    with pytest.raises(sfscale.InvalidInputError):
        sfscale.soql("Account; DELETE", ["Id"]).build()


def test_metrics_prometheus_and_events(fresh: Emulator) -> None:
    events: list[dict] = []
    fresh.limits({"daily_api_requests": 20})
    with sfscale.Client(**fresh.options(pace_band=0.0)) as client:
        client.on_event(events.append)
        for i in range(12):
            client.create("Account", {"Name": f"m-{i}"})
        metrics = client.metrics()
        assert sum(sum(by_status.values()) for by_status in metrics["requests"].values()) >= 12
        assert "sfscale_" in client.prometheus()
        wait_for(lambda: any(e["kind"] == "limit_threshold" for e in events), "a limit threshold event")
        assert client.token_grants == 1


def test_core_logs_reach_python_logging(fresh: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    sfscale.set_log_level(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG, logger="sfscale"):
            with sfscale.Client(**fresh.options()) as client:
                client.limits()
            wait_for(
                lambda: any(r.name.startswith("sfscale.tokens") for r in caplog.records),
                "the token log record",
            )
    finally:
        sfscale.set_log_level(logging.INFO)
    record = next(r for r in caplog.records if r.name.startswith("sfscale.tokens"))
    assert "access token obtained" in record.getMessage()
    assert "secret" not in record.getMessage()


def test_closed_client_refuses_calls(fresh: Emulator) -> None:
    with sfscale.Client(**fresh.options()) as client:
        client.limits()
        assert repr(client) == f"<sfscale.Client {fresh.url}/ grant=client_credentials api=62.0>"
        assert "secret" not in repr(client)
    assert repr(client) == "<sfscale.Client closed>"
    with pytest.raises(sfscale.InvalidInputError, match="closed"):
        client.limits()


def test_from_env_reads_variables_and_keywords_win(fresh: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFSCALE_INSTANCE_URL", fresh.url)
    monkeypatch.setenv("SFSCALE_CLIENT_ID", "sfscale-emulator-client")
    monkeypatch.setenv("SFSCALE_CLIENT_SECRET", "wrong")
    with sfscale.Client.from_env(client_secret="sfscale-emulator-secret") as client:
        assert "DailyApiRequests" in client.limits()


def test_priorities_and_long_running_handles_share_the_client(fresh: Emulator) -> None:
    with sfscale.Client(**fresh.options()) as client:
        critical = client.with_priority("critical")
        critical.create("Account", {"Name": "urgent"})
        list(client.long_running().query("SELECT Id FROM Account"))
        assert client.token_grants == 1
        with pytest.raises(ValueError, match="unknown priority"):
            client.with_priority("urgent")
