"""Faults and safety: kills, dead workers, full disks, hostile files.

A run or a sweep killed at any point resumes to outputs equal, byte for byte, to an
uninterrupted one; a Dask worker dying mid-run changes nothing; an output location that
cannot be written gives a clear error and nothing that looks complete; YAML that would
build objects is refused and no text from a file is ever executed.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dask import distributed

from sim.engine.runner import run
from sim.errors import ScenarioError, UserError
from sim.scenario import load_scenario
from sim.studies.sweep import sweep
from tests.helpers import (
    ROOT,
    SCENARIOS,
    same_outputs,
    start_flagship_run,
    wait_for_chunks,
)

FLAGSHIP = SCENARIOS / "ukraine_ceasefire.yaml"
SWEEP = """name: fault_sweep
description: a sweep to kill
base: {base}
replications: 4000
design: {{kind: grid}}
parameters:
  ceasefire_month:
    path: events.ceasefire.timing.month
    values: [3, 6, 9, 12, 15, 18]
    integer: true
outputs:
  - {{domain: military, horizon: 120}}
"""


@pytest.mark.slow
@pytest.mark.parametrize("chunks_before_kill", [0, 4, 9])
def test_run_killed_at_any_point_resumes_to_identical_outputs(
    tmp_path, uninterrupted, chunks_before_kill
):
    out = tmp_path / "killed"
    process = start_flagship_run(out, "--workers", "1", "--quiet")
    if chunks_before_kill:
        wait_for_chunks(out, chunks_before_kill, process)
    else:
        deadline = time.monotonic() + 60
        while not (out / "manifest.json").is_file() and time.monotonic() < deadline:
            time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    run(resume=out, workers=2)
    assert same_outputs(uninterrupted, out)


@pytest.mark.slow
def test_resume_after_a_kill_during_assembly(tmp_path, uninterrupted):
    """Killed while writing outcomes.npz: a stale temporary is left, the manifest says running."""
    out = tmp_path / "assembling"
    process = start_flagship_run(out, "--workers", "1", "--quiet")
    wait_for_chunks(out, 12, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    (out / ".outcomes.npz.tmp-99999").write_bytes(b"half a zip")
    run(resume=out, workers=1)
    assert same_outputs(uninterrupted, out)
    assert not list(out.glob(".*.tmp-*"))


@pytest.mark.slow
def test_sweep_killed_mid_way_resumes_to_identical_outputs(tmp_path):
    file = tmp_path / "sweep.yaml"
    file.write_text(SWEEP.format(base=FLAGSHIP))
    whole = tmp_path / "whole"
    sweep(file, out=whole, workers=1)
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "sim", "sweep", str(file), "--out", str(killed), "--quiet",
               "--workers", "1"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while len(list((killed / "points").glob("*.json"))) < 2:
        if process.poll() is not None:
            pytest.fail(f"the sweep ended (status {process.returncode}) before it could be "
                        f"killed:\n{process.stderr.read()}")  # fmt: skip
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("the sweep saved fewer than 2 points in 300 s")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 2 <= len(list((killed / "points").glob("*.json"))) < 6
    sweep(resume=killed, workers=2)
    assert (killed / "sweep.csv").read_bytes() == (whole / "sweep.csv").read_bytes()


def _chunks_run_twice(dask_scheduler) -> list[str]:
    """Chunk tasks the scheduler sent to a worker more than once (run on the scheduler)."""
    sent: dict[str, int] = {}
    for step in dask_scheduler.transition_log:
        if str(step.key).startswith("simulate_chunk") and step.finish == "processing":
            sent[str(step.key)] = sent.get(str(step.key), 0) + 1
    return [key for key, times in sent.items() if times > 1]


@pytest.mark.slow
def test_a_dask_worker_killed_mid_run_changes_nothing(tmp_path, ceasefire):
    # 20 chunks of about 0.3 s: the run outlasts the wait for a worker in mid-chunk.
    settings = {"replications": 120_000, "seed": 3, "horizon": 60, "chunk_size": 6_000}
    run(ceasefire, **settings, workers=1, out=tmp_path / "reference")
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:  # fmt: skip
        client = distributed.Client(cluster)
        pids = client.run(os.getpid)
        failure: list[BaseException] = []

        def go() -> None:
            try:
                run(ceasefire, **settings, scheduler=cluster.scheduler_address, out=out)
            except BaseException as error:  # reported in the test's thread
                failure.append(error)

        thread = threading.Thread(target=go)
        thread.start()
        # Kill a worker only once chunks have been saved and the scheduler has given it two
        # (one running, one queued on it): what it holds must then run again elsewhere.
        deadline = time.monotonic() + 120
        killed: tuple[str, list[str]] | None = None
        while killed is None and thread.is_alive() and time.monotonic() < deadline:
            if len(list((out / "chunks").glob("chunk-*.npz"))) >= 2:
                for address, keys in client.processing().items():
                    chunks = [str(key) for key in keys if str(key).startswith("simulate_chunk")]
                    if len(chunks) >= 2:
                        os.kill(pids[address], signal.SIGKILL)  # the nanny starts a new one
                        killed = address, chunks
                        break
            time.sleep(0.005)
        assert killed is not None, f"no worker held two chunks before the run ended {failure}"
        thread.join(600)
        assert not thread.is_alive(), "the run did not recover from the killed worker"
        assert not failure, failure
        address, keys = killed
        retried = client.run_on_scheduler(_chunks_run_twice)
        assert set(retried) & set(keys), (keys, retried)  # what the dead worker held ran again
        client.wait_for_workers(2, timeout=60)
        restarted = client.run(os.getpid)
        assert pids[address] not in restarted.values()
        assert len(restarted) == 2
        client.close()
    assert same_outputs(tmp_path / "reference", out)


def test_output_under_a_file_is_a_clear_error(tmp_path, baseline):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(UserError, match=r"cannot create the directory .*a-file is a file"):
        run(baseline, replications=100, horizon=12, out=blocker / "run")
    assert blocker.read_text() == "not a directory"


def _limit_file_size() -> None:
    # A full disk, without mounting one: writes beyond 200 kB fail with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_full_disk_gives_a_clear_error_and_nothing_that_looks_complete(tmp_path):
    out = tmp_path / "full"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(FLAGSHIP), "--replications", "30000",
         "--out", str(out), "--quiet", "--workers", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, preexec_fn=_limit_file_size,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot write" in done.stderr
    assert "File too large" in done.stderr
    assert f"alliance-sim run --resume {out}" in done.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert not (out / "outcomes.npz").exists()
    assert not list(out.rglob(".*.tmp-*"))


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object:os.system",
        "!!python/name:os.system",
        "!!binary aGk=",
        "!!set {a: null}",
        "!!omap [{a: 1}]",
        "!custom x",
    ],
)
def test_yaml_tags_that_build_objects_are_refused(tmp_path, tag):
    file = tmp_path / "tagged.yaml"
    file.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\ndescription: {tag}\n")
    with pytest.raises(ScenarioError, match="is not allowed: use plain data"):
        load_scenario(file)


def test_text_in_a_scenario_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"$(touch {marker})",
        f"`touch {marker}`",
        "{{7*7}} %(x)s {0.__class__}",
    ]
    file = tmp_path / "hostile.yaml"
    file.write_text(
        f"extends: {SCENARIOS / 'baseline.yaml'}\n"
        f"name: ../../{payloads[0]}\n"
        f'description: "{payloads[1]} {payloads[2]} {payloads[3]}"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(file), "--replications", "200", "--horizon", "12",
         "--quiet", "--workers", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert payloads[0] in done.stdout  # the name is shown as text
    # The name never becomes a path outside the results folder.
    written = [p for p in (tmp_path / "results").iterdir()]
    assert len(written) == 1
    assert written[0].parent == tmp_path / "results"
    assert not (tmp_path.parent / "__import__").exists()


def test_extends_resolves_relative_to_the_file_not_the_working_directory(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(SCENARIOS / "baseline.yaml", tmp_path / "b" / "parent.yaml")
    parent = tmp_path / "b" / "parent.yaml"
    text = parent.read_text().replace("world/", f"{SCENARIOS / 'world'}/")
    parent.write_text(text.replace("../calibration", str(ROOT / "calibration")))
    child = tmp_path / "a" / "child.yaml"
    child.write_text("extends: ../b/parent.yaml\nname: child\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    previous = Path.cwd()
    os.chdir(elsewhere)
    try:
        assert load_scenario("../a/child.yaml").name == "child"
    finally:
        os.chdir(previous)
