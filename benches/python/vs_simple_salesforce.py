"""sfscale vs simple-salesforce on the same emulator: a large query and a bulk upsert from dicts.

    python benches/python/vs_simple_salesforce.py --emulator target/debug/sfscale-emulator \
        --query-rows 200000 --upsert-rows 1000000

Not a test and not a CI gate: it prints wall-clock seconds and the ratio (simple-salesforce
time / sfscale time; above 1 means sfscale is faster). The emulator serves https with its own
certificate so simple-salesforce runs unmodified; its ``*.salesforce.com`` hosts are routed to
the emulator by a transport adapter (the DNS stand-in of the emulator's fidelity tests).
Both clients read the same records and write the same rows (10 fields each, from dicts). They
do not do the same work: sfscale maps every row's outcome back to its input row and writes
success/error files; simple-salesforce returns job counts (and polls every 5 s by default).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import requests
import sfscale
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

CLIENT_ID = "sfscale-emulator-client"
CLIENT_SECRET = "sfscale-emulator-secret"
USERNAME = "integration@sfscale.test"
PASSWORD = "sfscale-password"


class ToEmulator(HTTPAdapter):
    """Sends requests for ``*.salesforce.com`` to the emulator."""

    def __init__(self, netloc: str) -> None:
        super().__init__()
        self.netloc = netloc

    def send(self, request, **kwargs):
        parts = urllib.parse.urlsplit(request.url)
        if parts.hostname and parts.hostname.endswith(".salesforce.com"):
            request.url = urllib.parse.urlunsplit(parts._replace(netloc=self.netloc))
        return super().send(request, **kwargs)


def control(url: str, ca: str, method: str, path: str, body: object = None) -> None:
    session = requests.Session()
    session.trust_env = False
    session.request(
        method, f"{url}/__emulator/{path}", json=body, verify=ca, timeout=120
    ).raise_for_status()


def rows(n: int, tag: str) -> list[dict]:
    return [
        {
            "External_Id__c": f"B-{i}",
            "Name": f"{tag} {i}",
            "Description": f"row {i} of the benchmark",
            "Industry": "Energy",
            "NumberOfEmployees": i % 5000,
            "AnnualRevenue": float(i % 100000),
            "BillingCity": "Paris",
            "BillingCountry": "France",
            "Phone": "+33 1 23 45 67 89",
            "Website": "https://example.com",
        }
        for i in range(n)
    ]


def timed(label: str, fn) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<32} {seconds:8.2f} s", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--emulator", default=os.environ.get("SFSCALE_EMULATOR_BIN"), required=False
    )
    parser.add_argument("--query-rows", type=int, default=200_000)
    parser.add_argument("--upsert-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not args.emulator:
        parser.error("--emulator (or SFSCALE_EMULATOR_BIN) is required")
    with tempfile.TemporaryDirectory() as scratch:
        ca = str(Path(scratch) / "ca.pem")
        process = subprocess.Popen(
            [args.emulator, "--port", "0", "--tls-cert-out", ca],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            url = next(
                w for w in process.stdout.readline().split() if w.startswith("https://")
            ).rstrip("/")
            return bench(url, ca, args, Path(scratch))
        finally:
            process.terminate()
            process.wait(timeout=30)


def bench(url: str, ca: str, args: argparse.Namespace, scratch: Path) -> int:
    netloc = urllib.parse.urlsplit(url).netloc
    session = requests.Session()
    session.trust_env = False
    session.verify = ca
    session.mount("https://", ToEmulator(netloc))
    ssf = Salesforce(
        username=USERNAME,
        password=PASSWORD,
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        session=session,
    )
    sf = sfscale.Client(
        instance_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, ca_file=ca
    )
    soql = "SELECT Id, Name, External_Id__c FROM Account"
    print(f"query of {args.query_rows} records")
    control(
        url,
        ca,
        "POST",
        "load",
        {"object": "Account", "records": rows(args.query_rows, "q")},
    )
    t_sf = timed("sfscale query", lambda: sum(1 for _ in sf.query(soql)))
    t_ssf = timed(
        "simple-salesforce query_all_iter",
        lambda: sum(1 for _ in ssf.query_all_iter(soql)),
    )
    print(f"  ratio {t_ssf / t_sf:.2f}x")
    control(url, ca, "POST", "reset", {})
    print(f"bulk upsert of {args.upsert_rows} rows x 10 fields from dicts")
    data = rows(args.upsert_rows, "u")
    bulk = sf.bulk.with_work_dir(scratch / "bulk")
    t_sf = timed(
        "sfscale bulk.ingest",
        lambda: bulk.ingest(
            "Account", "upsert", iter(data), external_id="External_Id__c"
        ),
    )
    control(url, ca, "POST", "reset", {})
    t_ssf = timed("simple-salesforce bulk2.upsert", lambda: ssf_upsert(ssf, data))
    print(f"  ratio {t_ssf / t_sf:.2f}x")
    return 0


def ssf_upsert(ssf: Salesforce, data: list[dict]) -> None:
    """simple-salesforce's Bulk 2.0 upsert from the same dicts (its defaults: it polls every 5 s)."""
    ssf.bulk2.Account.upsert(records=data, external_id_field="External_Id__c")


if __name__ == "__main__":
    sys.exit(main())
