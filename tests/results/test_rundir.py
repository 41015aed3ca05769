"""The lock on a run directory: refused while another process works in it, not longer."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sim.errors import UserError
from sim.results import rundir
from sim.results.rundir import DirectoryLock

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.pwrite(fd, (sys.argv[2] or str(os.getpid())).encode(), 0)
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
"""


def hold(lock: DirectoryLock, recorded_pid: str, seconds: float) -> subprocess.Popen:
    """A process holding the lock for ``seconds``; its file names ``recorded_pid`` or it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock.file), recorded_pid, str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "locked"
    return process


def exited_pid() -> str:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return str(finished.pid)


def test_a_lock_held_by_a_working_process_is_refused_at_once(tmp_path, monkeypatch):
    lock = DirectoryLock(tmp_path / "run")
    holder = hold(lock, "", 30)
    waits: list[float] = []
    monkeypatch.setattr(rundir.time, "sleep", waits.append)
    try:
        holder_pid = str(holder.pid)
        with pytest.raises(UserError, match=rf"in use by another .* \(pid {holder_pid}\)"):
            lock.acquire()
        assert waits == []  # a live holder: no waiting for it to exit
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_to_the_children_of_a_killed_process_is_taken_once_they_exit(tmp_path):
    # The process the file names is gone; a child of it still holds the open file for a
    # moment (forked to run a command, killed with it): wait for it, do not refuse.
    lock = DirectoryLock(tmp_path / "run")
    child = hold(lock, exited_pid(), 0.5)
    lock.acquire()
    try:
        assert child.wait(timeout=5) == 0
        assert lock.file.read_text() == str(os.getpid())
    finally:
        lock.release()
    assert not lock.file.exists()


def _damaged(run_directory, damage: str) -> None:
    import json

    if damage == "outcomes missing":
        (run_directory / "outcomes.npz").unlink()
    elif damage == "outcomes cut short":
        path = run_directory / "outcomes.npz"
        path.write_bytes(path.read_bytes()[:1000])
    else:
        manifest = json.loads((run_directory / "manifest.json").read_text())
        del manifest["seed"]
        (run_directory / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("outcomes missing", "outcomes.npz is missing"),
        ("outcomes cut short", "an archive is cut short or corrupt"),
        ("seed missing", "its manifest.json has no 'seed'"),
    ],
)
def test_a_damaged_run_directory_is_a_clear_error_with_exit_2(tmp_path, damage, said):
    # These gave a traceback and exit 1 (FileNotFoundError, BadZipFile, KeyError).
    from tests.helpers import SCENARIOS, alliance_sim

    out = tmp_path / "run"
    made = alliance_sim(
        "run", str(SCENARIOS / "baseline.yaml"), "--replications", "100", "--horizon", "12",
        "--workers", "1", "--quiet", "--format", "csv", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    _damaged(out, damage)
    done = alliance_sim("report", str(out), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"cannot read the run in {out}: {said}" in done.stderr
    assert "the directory is damaged" in done.stderr
