"""Fixtures: the emulator binary on a free port, its control API, and clients pointed at it."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

import sfscale

ROOT = Path(__file__).resolve().parents[2]
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
        ["cargo", "build", "-q", "-p", "sfscale-emulator", "--bin", "sfscale-emulator"], cwd=ROOT, check=True
    )
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(Path(target) / "debug" / "sfscale-emulator")


class Emulator:
    """A running emulator process and its control endpoints (``/__emulator/...``)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([emulator_binary(), "--port", "0"], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        url = next((w for w in ready.split() if w.startswith("http://")), None)
        assert url, f"emulator did not print its ready line: {ready!r}"
        self.url = url.rstrip("/")

    def stop(self, kill: bool = False) -> None:
        """Stops the process: gracefully (in-flight calls finish) or, with ``kill``, at once."""
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=60)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/__emulator/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def load(self, object: str, records: list[dict[str, Any]]) -> None:
        self.control("POST", "load", {"object": object, "records": records})

    def faults(self, body: dict[str, Any]) -> None:
        self.control("PUT", "faults", body)

    def limits(self, body: dict[str, Any]) -> None:
        self.control("PUT", "limits", body)

    def expire_sessions(self) -> None:
        self.control("POST", "expire-sessions", {})

    def options(self, **overrides: Any) -> dict[str, Any]:
        """Client keywords for this emulator: client credentials, short test backoff."""
        options: dict[str, Any] = {
            "instance_url": self.url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "retry_backoff": (0.002, 0.05),
        }
        options.update(overrides)
        return options


def accounts(prefix: str, n: int) -> list[dict[str, Any]]:
    """``n`` Accounts named ``prefix-i`` with ``External_Id__c`` = ``prefix-i``."""
    return [{"Name": f"{prefix}-{i}", "External_Id__c": f"{prefix}-{i}"} for i in range(n)]


def wait_for(condition: Callable[[], Any], what: str, limit: float = 20.0) -> Any:
    """Polls ``condition`` until it is truthy; fails naming ``what`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="session")
def emulator():
    emu = Emulator()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def private_emulator():
    """An emulator of the test's own, killed at the end: for tests that leave a slow call
    behind on the server (a graceful stop would wait for it)."""
    emu = Emulator()
    try:
        yield emu
    finally:
        emu.stop(kill=True)


@pytest.fixture
def fresh(emulator: Emulator) -> Emulator:
    """The emulator with its data, counters and faults cleared."""
    emulator.reset()
    emulator.limits({"daily_api_requests": 100_000})
    return emulator


@pytest.fixture
def client(fresh: Emulator):
    with sfscale.Client(**fresh.options()) as c:
        yield c


@pytest.fixture
def bulk_dir(tmp_path: Path) -> Path:
    return tmp_path / "bulk"


#: Ingest keywords for tests: quick polling.
FAST_POLL = {"poll_interval": (0.02, 0.1)}
