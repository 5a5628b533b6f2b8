"""One side of one benchmark pair, in its own process so its peak RSS is its own.

    python py_case.py --url URL --ca CA.pem --case b1|b2|b3|b6 --side sfscale|peer --rows N \
        [--csv FILE] [--scratch DIR]

Started by ``benches/run.py`` against an emulator it already runs (and resets between sides);
prints one JSON line: ``seconds`` (the measured work only, not imports or data generation),
``peak_rss_mb`` of this process, ``api_calls`` (the emulator's counter across the work) and
``checked`` (the correctness check that passed). A failed check exits non-zero.

Cases: b1 bulk upsert from dicts (peer: simple-salesforce ``bulk2``); b2 a CSV file to
Bulk 2.0 (peer: a raw HTTP upload of the same bytes, the physical limit); b3 a REST query
(peer: simple-salesforce ``query_all_iter``); b6 single-record writes through the queue
(peer: one REST call per record).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
import sfscale
import vs_simple_salesforce as p1
from simple_salesforce import Salesforce

API = "/services/data/v62.0"
SOQL = "SELECT Id, Name, External_Id__c FROM Account"


def emulator_stats(url: str, ca: str) -> dict:
    return requests.get(f"{url}/__emulator/stats", verify=ca, timeout=60).json()


def sfscale_client(url: str, ca: str) -> sfscale.Client:
    return sfscale.Client(
        instance_url=url,
        client_id=p1.CLIENT_ID,
        client_secret=p1.CLIENT_SECRET,
        ca_file=ca,
    )


def peer_client(url: str, ca: str) -> Salesforce:
    session = requests.Session()
    session.trust_env = False
    session.verify = ca
    session.mount("https://", p1.ToEmulator(requests.utils.urlparse(url).netloc))
    return Salesforce(
        username=p1.USERNAME,
        password=p1.PASSWORD,
        consumer_key=p1.CLIENT_ID,
        consumer_secret=p1.CLIENT_SECRET,
        session=session,
    )


def expect(what: str, got: object, want: object) -> str:
    if got != want:
        raise SystemExit(
            f"correctness check failed: {what}: got {got!r}, want {want!r}"
        )
    return f"{what} = {want}"


def b1(args, url, ca):
    data = p1.rows(args.rows, "u")
    if args.side == "sfscale":
        bulk = sfscale_client(url, ca).bulk.with_work_dir(args.scratch)
        work = lambda: bulk.ingest(
            "Account", "upsert", iter(data), external_id="External_Id__c"
        )
    else:
        ssf = peer_client(url, ca)
        work = lambda: p1.ssf_upsert(ssf, data)
    return work, lambda _: account_count(url, ca, args.rows)


def b2(args, url, ca):
    if args.side == "sfscale":
        bulk = sfscale_client(url, ca).bulk.with_work_dir(args.scratch)
        work = lambda: bulk.ingest("Account", "insert", str(args.csv), group_by=False)
    else:
        work = lambda: raw_upload(url, ca, Path(args.csv))
    return work, lambda _: account_count(url, ca, args.rows)


def b3(args, url, ca):
    if args.side == "sfscale":
        sf = sfscale_client(url, ca)
        work = lambda: sum(1 for _ in sf.query(SOQL))
    else:
        ssf = peer_client(url, ca)
        work = lambda: sum(1 for _ in ssf.query_all_iter(SOQL))
    return work, lambda n: expect("records read", n, args.rows)


def b6(args, url, ca):
    sf = sfscale_client(url, ca)
    records = [{"Name": f"q {i}", "External_Id__c": f"Q-{i}"} for i in range(args.rows)]
    if args.side == "sfscale":
        work = lambda: through_queue(sf, Path(args.scratch) / "queue", records)
    else:
        work = lambda: [sf.create("Account", r) for r in records]
    return work, lambda _: account_count(url, ca, args.rows)


def through_queue(sf: sfscale.Client, path: Path, records: list[dict]) -> None:
    with sf.queue(path) as queue:
        for record in records:
            queue.enqueue("Account", "insert", record)
        queue.flush()


def account_count(url: str, ca: str, want: int) -> str:
    return expect(
        "Accounts in the org",
        emulator_stats(url, ca)["records"].get("Account", 0),
        want,
    )


def raw_upload(url: str, ca: str, csv: Path) -> None:
    """The physical limit: the file's bytes in jobs of at most 100 MB, back to back."""
    http = requests.Session()
    http.trust_env = False
    http.verify = ca
    grant = http.post(
        f"{url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": p1.CLIENT_ID,
            "client_secret": p1.CLIENT_SECRET,
        },
    ).json()
    http.headers["Authorization"] = f"Bearer {grant['access_token']}"
    for chunk in csv_chunks(csv, 100 * 1024 * 1024 - 4096):
        one_job(http, url, chunk)


def csv_chunks(csv: Path, limit: int):
    """The file in pieces below ``limit`` bytes, cut at line ends, each with the header."""
    with csv.open("rb") as f:
        header = f.readline()
        lines: list[bytes] = []
        size = len(header)
        for line in f:
            if size + len(line) > limit and lines:
                yield header + b"".join(lines)
                lines, size = [], len(header)
            lines.append(line)
            size += len(line)
        if lines:
            yield header + b"".join(lines)


def one_job(http: requests.Session, url: str, body: bytes) -> None:
    jobs = f"{url}{API}/jobs/ingest"
    spec = {
        "object": "Account",
        "operation": "insert",
        "contentType": "CSV",
        "lineEnding": "LF",
    }
    job = http.post(jobs, json=spec)
    job.raise_for_status()
    job_id = job.json()["id"]
    http.put(
        f"{jobs}/{job_id}/batches", data=body, headers={"Content-Type": "text/csv"}
    ).raise_for_status()
    http.patch(f"{jobs}/{job_id}", json={"state": "UploadComplete"}).raise_for_status()
    while (state := http.get(f"{jobs}/{job_id}").json()["state"]) not in (
        "JobComplete",
        "Failed",
        "Aborted",
    ):
        time.sleep(0.02)
    expect("raw job state", state, "JobComplete")


CASES = {"b1": b1, "b2": b2, "b3": b3, "b6": b6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--case", choices=sorted(CASES), required=True)
    parser.add_argument("--side", choices=["sfscale", "peer"], required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--csv")
    parser.add_argument("--scratch", default=".")
    args = parser.parse_args()
    work, check = CASES[args.case](args, args.url, args.ca)
    before = emulator_stats(args.url, args.ca)["api_requests"]
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    checked = check(result)
    calls = emulator_stats(args.url, args.ca)["api_requests"] - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak,
                "api_calls": calls,
                "checked": checked,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
