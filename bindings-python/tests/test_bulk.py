"""client.bulk: ingest from generators, CSV files and DataFrames; failures by row; resume; query."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

import sfscale
from conftest import FAST_POLL, Emulator, accounts


@pytest.fixture
def bulk(client: sfscale.Client, tmp_path: Path) -> sfscale.Bulk:
    return client.bulk.with_work_dir(tmp_path / "bulk")


def test_ingest_from_a_generator_maps_failures_to_rows(bulk: sfscale.Bulk, fresh: Emulator) -> None:
    def rows():  # noqa: ANN202
        for i in range(3000):
            yield {"Name": f"g-{i}", "External_Id__c": f"g-{i}"} if i != 1234 else {"External_Id__c": "no-name"}

    progress: list[dict] = []
    outcomes: list[dict] = []
    result = bulk.ingest(
        "Account",
        "upsert",
        rows(),
        external_id="External_Id__c",
        progress=progress.append,
        on_row=outcomes.append,
        **FAST_POLL,
    )
    assert result["complete"] is True
    assert (result["rows_read"], result["rows_succeeded"], result["rows_failed"]) == (3000, 2999, 1)
    (failure,) = result["failures"]
    assert failure["row"] == 1234 and failure["error"]["code"] == "REQUIRED_FIELD_MISSING"
    assert Path(result["error_file"]).exists()
    assert fresh.stats()["records"]["Account"] == 2999
    assert progress and progress[-1]["rows_read"] == 3000
    assert len(outcomes) == 3000
    assert [o["row"] for o in outcomes if o["error"]] == [1234]


def test_ingest_from_a_csv_path_and_bytes(bulk: sfscale.Bulk, tmp_path: Path, fresh: Emulator) -> None:
    for batch in ("a", "b"):
        with (tmp_path / f"{batch}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["Name", "External_Id__c"])
            writer.writerows([f"csv-{batch}{i}", f"csv-{batch}{i}"] for i in range(100))
    assert bulk.ingest("Account", "insert", tmp_path / "a.csv", **FAST_POLL)["rows_succeeded"] == 100
    assert bulk.ingest("Account", "insert", str(tmp_path / "b.csv"), **FAST_POLL)["rows_succeeded"] == 100
    assert bulk.ingest("Account", "insert", b"Name\nfrom-bytes\n", **FAST_POLL)["rows_succeeded"] == 1
    assert fresh.stats()["records"]["Account"] == 201


def test_ingest_from_a_dataframe(bulk: sfscale.Bulk, fresh: Emulator) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"Name": [f"df-{i}" for i in range(50)], "NumberOfEmployees": list(range(50))})
    frame.loc[3, "NumberOfEmployees"] = None  # becomes NaN: a missing value
    result = bulk.ingest("Account", "insert", frame, **FAST_POLL)
    assert result["rows_succeeded"] == 50
    assert fresh.stats()["records"]["Account"] == 50


def test_an_exception_from_the_rows_is_raised_as_is(bulk: sfscale.Bulk) -> None:
    def rows():  # noqa: ANN202
        yield {"Name": "fine"}
        raise RuntimeError("the source database went away")

    with pytest.raises(RuntimeError, match="source database"):
        bulk.ingest("Account", "insert", rows(), **FAST_POLL)
    with pytest.raises(TypeError, match="field 'Name' of row 1"):
        bulk.ingest("Account", "insert", iter([{"Name": "ok"}, {"Name": object()}]), **FAST_POLL)


def test_dicts_with_keys_in_any_order_or_made_per_row(bulk: sfscale.Bulk, fresh: Emulator) -> None:
    def rows():  # noqa: ANN202
        for i in range(300):
            name = "".join(["Na", "me"])  # a new key object on every row
            yield {name: f"k-{i}", "Phone": str(i)} if i % 2 else {"Phone": str(i), name: f"k-{i}"}

    result = bulk.ingest("Account", "insert", rows(), **FAST_POLL)
    assert (result["rows_succeeded"], result["jobs_used"]) == (300, 1)
    assert fresh.stats()["records"]["Account"] == 300
    stored = {r["Name"]: r["Phone"] for r in bulk.query("SELECT Name, Phone FROM Account")}
    assert stored == {f"k-{i}": str(i) for i in range(300)}


def test_a_run_refused_before_reading_pulls_no_row(bulk: sfscale.Bulk) -> None:
    pulled: list[int] = []

    def rows():  # noqa: ANN202
        for i in range(5):
            pulled.append(i)
            yield {"Name": f"n-{i}"}

    with pytest.raises(sfscale.InvalidInputError, match="external id"):
        bulk.ingest("Account", "upsert", rows(), **FAST_POLL)
    assert pulled == []


def test_a_run_past_its_deadline_resumes(bulk: sfscale.Bulk, fresh: Emulator) -> None:
    fresh.faults({"seed": 1, "rules": [{"route": "bulk", "share": 1.0, "effect": "delay:100"}]})
    rows = [{"Name": f"r-{i}"} for i in range(500)]
    first = bulk.ingest("Account", "insert", rows, deadline=0.05, max_rows_per_job=100, **FAST_POLL)
    assert first["complete"] is False
    fresh.faults({"rules": []})
    finished = bulk.resume(first["run_id"])
    assert finished["complete"] is True and finished["rows_succeeded"] == 500
    assert fresh.stats()["records"]["Account"] == 500


def test_bulk_query_to_a_file_and_as_records(bulk: sfscale.Bulk, fresh: Emulator, tmp_path: Path) -> None:
    fresh.load("Account", accounts("q", 120))
    out = tmp_path / "out.csv"
    summary = bulk.query("SELECT Id, Name FROM Account", to=out)
    assert summary["rows"] == 120
    with out.open() as f:
        assert len(list(csv.DictReader(f))) == 120
    names = sorted(r["Name"] for r in bulk.query("SELECT Name FROM Account", page_size=50))
    assert names == sorted(f"q-{i}" for i in range(120))
    assert fresh.stats()["requests_by_route"]["bulk"] >= 3, "three result pages of 50"


def test_write_picks_the_method_by_volume(bulk: sfscale.Bulk) -> None:
    few = bulk.write("Account", "insert", [{"Name": "one"}])
    many = bulk.write("Account", "insert", [{"Name": f"w-{i}"} for i in range(300)])
    assert (few["method"], many["method"]) == ("single", "collections")
    assert many["succeeded"] == 300 and many["reason"]


def test_client_write_is_the_same_auto_write(client: sfscale.Client, fresh: Emulator) -> None:
    report = client.write("Account", "insert", [{"Name": f"cw-{i}"} for i in range(3)])
    assert (report["method"], report["succeeded"]) == ("collections", 3)
    assert fresh.stats()["records"]["Account"] == 3


def test_async_bulk(fresh: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with sfscale.AsyncClient(**fresh.options()) as client:
            bulk = client.bulk.with_work_dir(tmp_path)
            result = await bulk.ingest("Account", "insert", ({"Name": f"a-{i}"} for i in range(200)), **FAST_POLL)
            assert result["rows_succeeded"] == 200
            names = [r["Name"] async for r in bulk.query("SELECT Name FROM Account")]
            assert len(names) == 200

    asyncio.run(main())
