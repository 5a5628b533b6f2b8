"""Fixtures that run the emulator binary and point unmodified third-party clients at it.

simple-salesforce always talks to ``https://{domain}.salesforce.com`` for OAuth and to
``https://{instance_url}`` for data. The emulator therefore serves https with its own
generated certificate, and the only thing standing in for DNS is a ``requests`` transport
adapter that sends ``*.salesforce.com`` to the emulator. The library's code is untouched.
"""

from __future__ import annotations

import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID = "sfscale-emulator-client"
CLIENT_SECRET = "sfscale-emulator-secret"
USERNAME = "integration@sfscale.test"
PASSWORD = "sfscale-password"
JWT_KEY = ROOT / "emulator" / "fixtures" / "jwt" / "private.pem"


def emulator_binary() -> str:
    """The emulator binary: $SFSCALE_EMULATOR_BIN, or built with cargo."""
    explicit = os.environ.get("SFSCALE_EMULATOR_BIN")
    if explicit:
        return explicit
    subprocess.run(
        ["cargo", "build", "-q", "-p", "sfscale-emulator", "--bin", "sfscale-emulator"],
        cwd=ROOT,
        check=True,
    )
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(Path(target) / "debug" / "sfscale-emulator")


class Emulator:
    """A running emulator process: its base URL, CA file and control endpoints."""

    def __init__(self, url: str, ca_file: Path):
        self.url = url
        self.ca_file = ca_file
        parsed = urllib.parse.urlsplit(url)
        self.netloc = parsed.netloc

    def control(self, method: str, path: str, json=None):
        with requests.Session() as s:
            s.trust_env = False
            response = s.request(
                method,
                f"{self.url}/__emulator/{path}",
                json=json,
                verify=str(self.ca_file),
                timeout=30,
            )
        response.raise_for_status()
        return response.json() if response.content else None

    def stats(self) -> dict:
        return self.control("GET", "stats")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    process = subprocess.Popen(
        [emulator_binary(), "--port", "0", "--tls", "--tls-cert-out", str(ca_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = process.stdout.readline()
        url = next(
            (word for word in ready.split() if word.startswith("https://")), None
        )
        assert url, f"emulator did not print a ready line with an https URL: {ready!r}"
        yield Emulator(url.rstrip("/"), ca_file)
    finally:
        process.terminate()
        process.wait(timeout=30)


class SalesforceHostsToEmulator(HTTPAdapter):
    """Sends requests for any ``*.salesforce.com`` host to the emulator (DNS stand-in)."""

    def __init__(self, emulator_netloc: str):
        super().__init__()
        self.emulator_netloc = emulator_netloc

    def send(self, request, **kwargs):
        parts = urllib.parse.urlsplit(request.url)
        if parts.hostname and parts.hostname.endswith(".salesforce.com"):
            request.url = urllib.parse.urlunsplit(
                parts._replace(netloc=self.emulator_netloc)
            )
        return super().send(request, **kwargs)


@pytest.fixture
def session(emulator) -> requests.Session:
    """A requests session trusting the emulator's certificate, routing Salesforce hosts to it."""
    s = requests.Session()
    # REQUESTS_CA_BUNDLE (set on many machines) would override `verify`; loopback needs no
    # proxy either, so the session ignores the environment.
    s.trust_env = False
    s.verify = str(emulator.ca_file)
    s.mount("https://", SalesforceHostsToEmulator(emulator.netloc))
    return s


API_VERSION = "59.0"


@pytest.fixture
def sf(session, fresh):
    """simple-salesforce logged in (OAuth password grant, as most ETL jobs do) to a fresh org."""
    from simple_salesforce import Salesforce

    return Salesforce(
        username=USERNAME,
        password=PASSWORD,
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        session=session,
        version=API_VERSION,
    )


@pytest.fixture
def fresh(emulator):
    """Empties the org and its counters before a test."""
    emulator.control("POST", "reset")
    return emulator
