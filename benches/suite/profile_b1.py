"""Where B1's (and B2's) time goes: sfscale's bulk ingest, phase by phase.

    python profile_b1.py --url URL --ca CA.pem --rows 200000 [--csv FILE]

Without ``--csv``: B1, an upsert from ``rows`` dicts. With it: B2, an insert of the CSV file
(which must hold ``rows`` rows).
Runs the sfscale side of B1 once against a freshly reset emulator (started by the caller, as
``benches/run.py`` does) and prints when each phase ended, in seconds from the call: every
row read and encoded (the binding's dict conversion included), every row uploaded, every job
done on the server (the emulator's own job states, sampled every 20 ms), the client learning
it (its processed counter), and the call returning (outcomes mapped back to rows). The gap
between "server done" and "client knows" is polling delay; the tail after that is mapping.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import requests
from py_case import emulator_stats, p1, sfscale_client

PHASES = ("rows_read", "rows_uploaded", "rows_processed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--scratch", default=".")
    parser.add_argument("--csv", help="ingest this CSV file (B2) instead of dicts (B1)")
    args = parser.parse_args()
    requests.post(
        f"{args.url}/__emulator/reset", json={}, verify=args.ca
    ).raise_for_status()
    bulk = sfscale_client(args.url, args.ca).bulk.with_work_dir(Path(args.scratch))
    data = [] if args.csv else p1.rows(args.rows, "u")
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def progress(counters: dict) -> None:
        for phase in PHASES:
            if phase not in marks and counters.get(phase, 0) >= args.rows:
                marks[phase] = time.perf_counter() - start

    stop = threading.Event()
    watcher = threading.Thread(target=watch_jobs, args=(args, marks, start, stop))
    watcher.start()
    if args.csv:
        result = bulk.ingest("Account", "insert", args.csv, progress=progress)
    else:
        result = bulk.ingest(
            "Account",
            "upsert",
            iter(data),
            external_id="External_Id__c",
            progress=progress,
        )
    marks["returned"] = time.perf_counter() - start
    stop.set()
    watcher.join()
    for name, at in sorted(marks.items(), key=lambda kv: kv[1]):
        print(f"  {name:<24} {at:8.2f} s")
    print(json.dumps({k: v for k, v in result.items() if isinstance(v, int | str)}))
    return 0


def watch_jobs(
    args, marks: dict[str, float], start: float, stop: threading.Event
) -> None:
    """Marks when the server first had a job and when every job it had was complete."""
    while not stop.is_set():
        jobs = emulator_stats(args.url, args.ca).get("bulk_jobs", {})
        now = time.perf_counter() - start
        if jobs and "server_first_job" not in marks:
            marks["server_first_job"] = now
        done = jobs.get("JobComplete", 0)
        settled = done and done == sum(jobs.values()) and "rows_uploaded" in marks
        if settled and "server_jobs_done" not in marks:
            marks["server_jobs_done"] = now
        time.sleep(0.02)


if __name__ == "__main__":
    raise SystemExit(main())
