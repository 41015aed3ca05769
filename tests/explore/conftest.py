"""Fixtures of the exploration page's tests: Debian's Chromium driven by Playwright, a server.

The browser is the system's ``chromium`` (Debian's package), never one Playwright
downloads: tests that need it skip, saying why, where it or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

CHROMIUM = (
    os.environ.get("ALLIANCE_SIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
PAGE_REPLICATIONS = 400
"""Replications the served page runs in the browser tests (a few seconds a change)."""


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """pytest-playwright's launch arguments: Debian's Chromium, or skip."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    return {"executable_path": CHROMIUM}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """``alliance-sim explore`` on the flagship, serving from a folder of its own."""
    folder = tmp_path_factory.mktemp("explore")
    port = _free_port()
    scenario = ROOT / "scenarios" / "ukraine_ceasefire.yaml"
    command = [sys.executable, "-m", "sim", "explore", str(scenario),
               "--port", str(port), "--replications", str(PAGE_REPLICATIONS)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:  # listening (a GET would build a page: seconds, and a session of its own)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the page did not start: {(folder / 'server.log').read_text()}")
            time.sleep(0.5)
    yield url, folder
    process.terminate()
    process.wait(30)
    log.close()
