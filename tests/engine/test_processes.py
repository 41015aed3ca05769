"""Real processes: Ctrl-C at any moment, killed parents, two processes on one directory.

Each test starts ``alliance-sim`` in its own process group (as a shell starts a job), so
that Ctrl-C can be sent as a terminal sends it, to the whole group, and so that whatever
the command starts (fork server, workers, resource tracker) can be found and counted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers import (
    ROOT,
    SCENARIOS,
    ctrl_c_as_at_a_terminal,
    same_outputs,
    start_flagship_run,
    wait_for_chunks,
)

FLAGSHIP = SCENARIOS / "ukraine_ceasefire.yaml"


def group_members(group: int) -> list[psutil.Process]:
    """The live processes of a process group (zombies are dead: they are left out)."""
    members = []
    for process in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def wait_until_gone(group: int, seconds: float) -> list[psutil.Process]:
    """Wait until no process of ``group`` is left; return those left after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        left = group_members(group)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def descendants(process: subprocess.Popen) -> list[str]:
    """The command lines of a process's descendants."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    lines = []
    for child in children:
        try:
            lines.append(" ".join(child.cmdline()))
        except psutil.NoSuchProcess:
            continue
    return lines


def wait_for(condition, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the command ended or stalled before the moment to interrupt it")
        time.sleep(0.01)


def forkserver_started(process: subprocess.Popen) -> bool:
    return any("forkserver" in line for line in descendants(process))


def workers_started(process: subprocess.Popen) -> bool:
    # The fork server's children: a worker is forked from it, not from the run.
    return sum("forkserver" in line for line in descendants(process)) >= 2


def moment_id(moment: float | str) -> str:
    return f"{moment}s" if isinstance(moment, float) else moment.replace(" ", "-")


def interrupt_at(process: subprocess.Popen, moment: float | str) -> str:
    """Ctrl-C the command's process group at ``moment`` (seconds, or a named one); stderr."""
    if moment == "fork server starting":
        wait_for(lambda: forkserver_started(process), process)
    elif moment == "workers starting":
        wait_for(lambda: workers_started(process), process)
    else:
        time.sleep(moment)
    os.killpg(process.pid, signal.SIGINT)
    return process.communicate(timeout=120)[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "moment",
    [0.3, 1.0, 1.8, 2.6, "fork server starting", "workers starting"],
    ids=moment_id,
)
def test_ctrl_c_at_an_early_moment_exits_cleanly(tmp_path, moment):
    out = tmp_path / "run"
    process = start_flagship_run(out, "--workers", "2")
    stderr = interrupt_at(process, moment)
    assert "Traceback" not in stderr, stderr
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("alliance-sim: interrupted"), stderr
    assert wait_until_gone(process.pid, 10) == []


@pytest.mark.slow
def test_killing_the_parent_of_a_local_pool_leaves_no_process(tmp_path):
    out = tmp_path / "run"
    process = start_flagship_run(out, "--workers", "2", "--quiet")
    wait_for_chunks(out, 1, process)
    started = descendants(process)
    assert sum("forkserver" in line for line in started) >= 3, started  # server, 2 workers
    assert any("resource_tracker" in line for line in started), started
    os.kill(process.pid, signal.SIGKILL)  # the parent alone, as the OOM killer would
    process.wait()
    left = wait_until_gone(process.pid, 10)
    assert left == [], [" ".join(p.cmdline()) for p in left]


def lock_holder(directory: Path) -> str:
    """The pid written in a directory's lock file, or '' if there is none."""
    try:
        return (directory.parent / f".{directory.name}.lock").read_text()
    except FileNotFoundError:
        return ""


def alliance_sim_process(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=ctrl_c_as_at_a_terminal,
    )  # fmt: skip


@pytest.mark.slow
def test_a_second_run_into_a_directory_in_use_is_refused(tmp_path, uninterrupted):
    out = tmp_path / "run"
    first = start_flagship_run(out, "--workers", "1", "--quiet")
    wait_for(lambda: lock_holder(out) == str(first.pid) and (out / "manifest.json").exists(),
             first)  # fmt: skip
    second = alliance_sim_process(
        "run", str(FLAGSHIP), "--seed", "8", "--replications", "60000", "--horizon", "60",
        "--chunk-size", "5000", "--out", str(out), "--force", "--workers", "1", "--quiet",
    )  # fmt: skip
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert f"{out} is in use by another alliance-sim process (pid {first.pid})" in stderr
    assert first.wait(600) == 0, first.stderr.read()
    assert json.loads((out / "manifest.json").read_text())["seed"] == 7
    assert same_outputs(uninterrupted, out)
    assert lock_holder(out) == "", "the lock file goes with the run that held it"


@pytest.mark.slow
def test_two_resumes_of_one_run_do_not_both_proceed(tmp_path, uninterrupted):
    out = tmp_path / "run"
    killed = start_flagship_run(out, "--workers", "1", "--quiet")
    wait_for_chunks(out, 1, killed)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    first = alliance_sim_process("run", "--resume", str(out), "--workers", "1", "--quiet")
    wait_for(lambda: lock_holder(out) == str(first.pid), first)
    second = alliance_sim_process("run", "--resume", str(out), "--workers", "1", "--quiet")
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert f"is in use by another alliance-sim process (pid {first.pid})" in stderr
    assert first.wait(600) == 0, first.stderr.read()
    assert same_outputs(uninterrupted, out)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert len(sessions) == 2, "the refused resume adds no session"


STUDY = """name: interrupted
description: a study to interrupt
base: {base}
replications: 3000
design: {{kind: lhs, points: 6}}
parameters:
  deal_probability: {{path: events.ceasefire.probability, range: [0.0, 1.0]}}
  treaty_noise: {{path: channels.defence_treaty.noise, range: [0.02, 0.03]}}
outputs:
  - {{domain: military, horizon: 60}}
sensitivity:
  output: {{domain: military, horizon: 60}}
  samples: 8
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "moment",
    [0.3, 1.0, 1.8, "fork server starting"],
    ids=moment_id,
)
def test_ctrl_c_while_a_study_starts_exits_cleanly(tmp_path, moment):
    # As for a run: a Ctrl-C while the study's libraries load is held, then raised.
    file = tmp_path / "study.yaml"
    file.write_text(STUDY.format(base=FLAGSHIP))
    process = alliance_sim_process("sweep", str(file), "--out", str(tmp_path / "sweep"),
                                   "--workers", "2", "--quiet")  # fmt: skip
    stderr = interrupt_at(process, moment)
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    assert process.returncode == 130, stderr
    assert wait_until_gone(process.pid, 10) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["compare", "sweep", "sensitivity"])
def test_ctrl_c_of_a_study_says_how_much_is_saved_and_how_to_resume(tmp_path, kind):
    out = tmp_path / kind
    common = ["--out", str(out), "--workers", "2", "--quiet"]
    if kind == "compare":
        scenarios = [str(SCENARIOS / "baseline.yaml"), str(FLAGSHIP)]
        process = alliance_sim_process(
            "compare", *scenarios, "--replications", "60000", "--chunk-size", "5000",
            "--horizon", "60", *common,
        )  # fmt: skip
        saved = lambda: list(out.glob("runs/*/chunks/chunk-*.npz"))  # noqa: E731
        total, unit = 2, "scenarios"
    else:
        file = tmp_path / "study.yaml"
        file.write_text(STUDY.format(base=FLAGSHIP))
        process = alliance_sim_process(kind, str(file), *common)
        saved = lambda: list(out.glob("points/*.json"))  # noqa: E731
        total, unit = (6 if kind == "sweep" else 8 * (2 + 2)), "points"
    wait_for(lambda: len(saved()) >= 1, process, 300)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    done = len(list(out.glob("points/*.json"))) if unit == "points" else 0
    assert f"interrupted: {done} of {total} {unit} are saved in {out}" in stderr, stderr
    assert f"continue with: alliance-sim {kind} --resume {out}" in stderr
    assert wait_until_gone(process.pid, 10) == []


SMALL_SWEEP = """name: small
description: two points
base: {base}
replications: 200
design: {{kind: grid}}
parameters:
  ceasefire_month: {{path: events.ceasefire.timing.month, values: [3, 24], integer: true}}
outputs:
  - {{domain: military, horizon: 120}}
"""


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_a_ctrl_c_while_the_manifest_is_dumped_is_not_lost(tmp_path, monkeypatch, kind):
    """A Ctrl-C that pydantic's serializer would swallow still stops the command.

    pydantic turns an exception raised in its serializer into a warning and goes on. CI
    caught a Ctrl-C landing there 2.6 s into a run, while its manifest was being dumped,
    and the run finished with status 0. Here the Ctrl-C comes inside the scenario's hash,
    which swallows it as pydantic does; the command stops before it creates its directory.
    """
    import warnings

    from sim.engine import runner
    from sim.scenario import load_scenario
    from sim.studies import sweep as sweep_module

    module = runner if kind == "run" else sweep_module
    original = module.scenario_hash

    def hash_interrupted_and_swallowed(scenario):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            warnings.warn("the serializer swallowed a KeyboardInterrupt", stacklevel=1)
        return original(scenario)

    monkeypatch.setattr(module, "scenario_hash", hash_interrupted_and_swallowed)
    out = tmp_path / kind
    if kind == "run":
        scenario = load_scenario(FLAGSHIP)

        def command():
            return runner.run(scenario, replications=200, workers=1, out=out)
    else:
        file = tmp_path / "sweep.yaml"
        file.write_text(SMALL_SWEEP.format(base=FLAGSHIP))

        def command():
            return sweep_module.sweep(file, workers=1, out=out)

    # Ctrl-C as the command line meets it, whatever earlier tests in this process left.
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a swallowed interrupt fails the test at once
            with pytest.raises(KeyboardInterrupt):
                command()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)
    assert not out.exists()
