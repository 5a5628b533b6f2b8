"""Starts the sfscale emulator binary for the examples (``--emulator PATH`` or $SFSCALE_EMULATOR_BIN).

Real jobs pass ``--url`` / set ``SFSCALE_*`` instead and never start an emulator.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request

CLIENT_ID = "sfscale-emulator-client"
CLIENT_SECRET = "sfscale-emulator-secret"


class running:
    """Runs the emulator on a free port for the duration of a ``with`` block; yields its URL."""

    def __init__(self, binary: str) -> None:
        self.process = subprocess.Popen(
            [binary, "--port", "0"], stdout=subprocess.PIPE, text=True
        )

    def __enter__(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        url = next((w for w in line.split() if w.startswith("http")), None)
        if url is None:
            self.__exit__()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        return url.rstrip("/")

    def __exit__(self, *_exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def load(url: str, object: str, records: list[dict]) -> None:
    """Seeds records through the emulator's control API."""
    body = json.dumps({"object": object, "records": records}).encode()
    request = urllib.request.Request(f"{url}/__emulator/load", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
        request, timeout=30
    ).close()
