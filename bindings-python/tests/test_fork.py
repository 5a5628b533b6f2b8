"""Fork safety: a child process forked after the parent used sfscale gets a working runtime."""

from __future__ import annotations

import multiprocessing
import sys

import pytest

import sfscale
from conftest import Emulator


def child_call(options: dict) -> int:
    with sfscale.Client(**options) as client:
        return client.limits()["DailyApiRequests"]["max"]


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_builds_its_own_runtime(fresh: Emulator) -> None:
    options = fresh.options()
    with sfscale.Client(**options) as client:
        client.limits()  # the parent's runtime is running when the fork happens
        with multiprocessing.get_context("fork").Pool(2) as pool:
            maxima = pool.map_async(child_call, [options, options]).get(timeout=60)
        assert maxima == [100_000, 100_000]
        assert client.limits()["DailyApiRequests"]["max"] == 100_000
