"""A nightly ETL sync: extract a CSV from the warehouse, upsert it with Bulk API 2.0, report failures.

    python nightly_sync.py --csv contacts.csv              # an org, from SFSCALE_* variables
    python nightly_sync.py --emulator target/debug/sfscale-emulator   # a local emulator, sample data

The CSV is streamed row by row (a generator), cleaned on the way (types converted, bad rows
skipped and reported), and handed to ``bulk.ingest``, which plans lock-aware jobs, retries
lock failures in smaller rounds and maps every Salesforce failure back to its input row. The
run id is printed so a crashed or timed-out run can be finished with ``--resume RUN_ID``.
Exit status: 0 when every row landed, 2 when some failed (their rows are in the report); a
crash exits 1 as any Python program does.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import sfscale

log = logging.getLogger("nightly_sync")


def extract(path: Path, rejected: list[tuple[int, str]]) -> Iterator[dict]:
    """Warehouse rows as Salesforce Contact fields; unusable rows are rejected, not sent."""
    with path.open(newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                yield {
                    "External_Id__c": row["customer_id"],
                    "LastName": row["last_name"],
                    "FirstName": row["first_name"] or None,
                    "Email": row["email"] or None,
                    "Birthdate": dt.date.fromisoformat(row["birthdate"])
                    if row["birthdate"]
                    else None,
                    "MailingCity": row["city"] or None,
                }
            except (KeyError, ValueError) as e:
                rejected.append((line, f"unreadable row: {e}"))


def sample_csv(directory: Path, rows: int) -> Path:
    """A warehouse extract for the demo: a few rows are broken on purpose."""
    path = directory / "contacts.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["customer_id", "last_name", "first_name", "email", "birthdate", "city"]
        )
        for i in range(rows):
            last = (
                "" if i % 997 == 13 else f"Customer{i}"
            )  # Salesforce will refuse a blank LastName
            birthdate = (
                "1990-13-45" if i == 7 else f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}"
            )
            writer.writerow(
                [
                    f"C-{i:06d}",
                    last,
                    f"First{i}",
                    f"c{i}@example.com",
                    birthdate,
                    f"City {i % 40}",
                ]
            )
    return path


def report(result: dict, rejected: list[tuple[int, str]]) -> int:
    print(
        f"run {result['run_id']}: {result['rows_succeeded']} saved, {result['rows_failed']} failed, "
        f"{len(rejected)} rejected before upload; {result['jobs_used']} job(s), {result['api_calls']} API calls"
    )
    for line, why in rejected:
        print(f"  rejected CSV line {line}: {why}")
    for failure in result["failures"][:10]:
        error = failure["error"]
        print(
            f"  row {failure['row']}: {error['code']} {error['message']} {error['fields']}"
        )
    if result["rows_failed"] > 10:
        print(f"  ... all failures: {result['error_file']}")
    if not result["complete"]:
        print(f"  not finished; continue with --resume {result['run_id']}")
    return (
        0 if result["rows_failed"] == 0 and not rejected and result["complete"] else 2
    )


def sync(
    client: sfscale.Client, csv_path: Path, work_dir: Path, resume: str | None
) -> int:
    bulk = client.bulk.with_work_dir(work_dir)
    rejected: list[tuple[int, str]] = []

    def progress(p: dict) -> None:
        log.info(
            "read %(rows_read)d, uploaded %(rows_uploaded)d, processed %(rows_processed)d",
            p,
        )

    if resume:
        result = bulk.resume(resume, progress=progress)
    else:
        rows = extract(csv_path, rejected)
        result = bulk.ingest(
            "Contact", "upsert", rows, external_id="External_Id__c", progress=progress
        )
    return report(result, rejected)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--csv", type=Path, help="warehouse extract (default: generated sample)"
    )
    parser.add_argument("--url", help="instance URL (else SFSCALE_INSTANCE_URL)")
    parser.add_argument(
        "--emulator",
        default=os.environ.get("SFSCALE_EMULATOR_BIN"),
        help="emulator binary to start",
    )
    parser.add_argument(
        "--rows", type=int, default=5000, help="rows in the generated sample"
    )
    parser.add_argument("--resume", help="run id of an unfinished run")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    with tempfile.TemporaryDirectory() as scratch:
        csv_path = args.csv or sample_csv(Path(scratch), args.rows)
        work_dir = Path(os.environ.get("SFSCALE_BULK_DIR", Path(scratch) / "bulk"))
        if args.emulator and not args.url:
            from emulator import CLIENT_ID, CLIENT_SECRET, running

            with (
                running(args.emulator) as url,
                sfscale.Client(
                    instance_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
                ) as client,
            ):
                return sync(client, csv_path, work_dir, args.resume)
        with sfscale.Client.from_env(instance_url=args.url) as client:
            return sync(client, csv_path, work_dir, args.resume)


if __name__ == "__main__":
    sys.exit(main())
