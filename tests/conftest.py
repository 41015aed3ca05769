"""Shared fixtures: the library scenarios, and the uninterrupted flagship run.

Hypothesis runs under a profile. ``ci``, the default, is deterministic: the same examples
on every run and machine (``derandomize``), a fixed number of them, no deadline (a slow
example on a loaded machine is not a failure) and no example database, so a test that
passes once passes every time. ``dev`` explores at random, with many more examples, and
keeps failures in ``.hypothesis/`` to replay: run it on purpose with
``HYPOTHESIS_PROFILE=dev make test`` (docs/running.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from sim.engine.options import WORKERS_VARIABLE
from sim.scenario import Scenario, load_scenario
from tests.helpers import SCENARIOS, start_flagship_run

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60, database=None, print_blob=True
)
settings.register_profile("dev", derandomize=False, deadline=None, max_examples=600)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config) -> None:
    """Under xdist, runs (and the commands tests start) default to one worker each.

    xdist already runs a test process per core; a run that started a pool of all cores in
    each would oversubscribe them. Tests that check several workers ask for them.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or getattr(config.option, "numprocesses", None):
        os.environ.setdefault(WORKERS_VARIABLE, "1")


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="session")
def ceasefire() -> Scenario:
    return load_scenario(SCENARIOS / "ukraine_ceasefire.yaml")


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory) -> Path:
    """The flagship run of :func:`start_flagship_run`, left to finish: what resumes must equal."""
    out = tmp_path_factory.mktemp("runs") / "whole"
    done = start_flagship_run(out, "--workers", "1", "--quiet")
    assert done.wait(600) == 0, done.stderr.read()
    return out
