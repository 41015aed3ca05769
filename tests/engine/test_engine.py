"""The engine: identical results on any executor, resumable runs, complete manifests."""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine.chunks import simulate_chunk, summarise_chunk
from sim.engine.executors import DASK_MISSING
from sim.engine.runner import run
from sim.errors import Advisory, RunInterrupted, UserError
from sim.model.streams import chunk_seed_sequence
from sim.results import load_run
from sim.results.settings import RunSettings
from sim.scenario import scenario_hash, with_horizon
from sim.stats.survival import Summary
from tests.helpers import (
    ROOT,
    chunk_outcomes,
    same_outputs,
    start_flagship_run,
    variant,
    wait_for_chunks,
)

SETTINGS = {"replications": 30_000, "seed": 7, "horizon": 60, "chunk_size": 5_000}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, ceasefire) -> Path:
    out = tmp_path_factory.mktemp("runs") / "one-worker"
    run(ceasefire, **SETTINGS, workers=1, out=out)
    return out


def test_chunk_seeds_are_spawned_by_index():
    parent = np.random.SeedSequence(7)
    children = parent.spawn(5)
    for index in (0, 3, 4):
        assert chunk_seed_sequence(7, index).generate_state(4).tolist() == (
            children[index].generate_state(4).tolist()
        )


def test_two_workers_give_byte_identical_outputs(tmp_path, ceasefire, reference):
    run(ceasefire, **SETTINGS, workers=2, out=tmp_path / "two")
    assert same_outputs(reference, tmp_path / "two")


def test_dask_local_cluster_gives_byte_identical_outputs(tmp_path, ceasefire, reference):
    pytest.importorskip("dask.distributed")
    run(ceasefire, **SETTINGS, workers=2, executor="dask", out=tmp_path / "dask")
    assert same_outputs(reference, tmp_path / "dask")
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["sessions"][0]["executor"] == "dask"


def test_the_joined_outcomes_sum_every_chunks_intensity_tally(reference):
    saved = np.load(reference / "outcomes.npz")
    domains = json.loads((reference / "manifest.json").read_text())["domains"]
    months = SETTINGS["horizon"] + 1
    assert saved["__intensity_counts"].sum() == SETTINGS["replications"] * len(domains) * months


def test_in_memory_run_equals_the_saved_outcomes_in_replication_order(ceasefire, reference):
    memory = run(ceasefire, **SETTINGS, workers=1)
    saved = np.load(reference / "outcomes.npz")
    for row, domain in enumerate(memory.outcomes.channels):
        assert np.array_equal(saved[f"{domain}__month"], memory.outcomes.month[row])
        assert np.array_equal(saved[f"{domain}__event"], memory.outcomes.event[row])
    assert saved["military__month"].dtype.kind == "i"
    assert saved["military__event"].dtype == bool
    assert len(saved["military__month"]) == SETTINGS["replications"]
    pd.testing.assert_frame_equal(memory.survival, pd.read_csv(reference / "survival.csv"))


def test_a_summarised_chunk_is_the_simulated_one_without_the_intensity_tally(ceasefire):
    settings = RunSettings(2_000, 7, 2_000)
    full = Summary.from_outcomes(simulate_chunk(ceasefire, settings, 1, 2_000))
    summarised = summarise_chunk(ceasefire, settings, 1, 2_000)
    assert full.intensity is not None
    assert summarised.intensity is None
    for name, table in full.life_tables.items():
        np.testing.assert_array_equal(summarised.life_tables[name].events, table.events)
        np.testing.assert_array_equal(summarised.life_tables[name].censored, table.censored)
    np.testing.assert_array_equal(summarised.alive_counts, full.alive_counts)
    np.testing.assert_array_equal(summarised.co_ended, full.co_ended)
    assert summarised.totals == full.totals
    for name, counts in full.endings.items():
        np.testing.assert_array_equal(summarised.endings[name], counts)
    for name, counts in full.event_months.items():
        np.testing.assert_array_equal(summarised.event_months[name], counts)


def test_survival_csv_is_tidy(reference):
    table = pd.read_csv(reference / "survival.csv")
    assert list(table.columns) == [
        "domain", "month", "date", "p_survive", "ci_low", "ci_high", "at_risk", "events",
    ]  # fmt: skip
    assert len(table) == 14 * (SETTINGS["horizon"] + 1)  # 13 domains and the treaty in force
    assert table.date.iloc[0] == "2025-03"
    assert table.at_risk.iloc[0] == SETTINGS["replications"]


def test_manifest_is_complete(reference, ceasefire):
    manifest = json.loads((reference / "manifest.json").read_text())
    for key in (
        "scenario_name", "scenario", "scenario_sha256", "seed", "chunk_size", "replications",
        "horizon", "packages", "git", "started_utc", "finished_utc", "sessions",
    ):  # fmt: skip
        assert manifest[key] is not None, key
    assert manifest["status"] == "complete"
    assert manifest["chunk_size"] == 5_000
    assert manifest["packages"]["mesa"].startswith("3.")
    assert set(manifest["git"]) == {"commit", "dirty"}
    session = manifest["sessions"][0]
    assert {"host", "executor", "workers", "started_utc", "finished_utc"} <= set(session)
    assert manifest["scenario_sha256"] == scenario_hash(with_horizon(ceasefire, 60))
    assert (manifest["seed"], manifest["replications"]) == (7, 30_000)
    assert not (reference / "chunks").exists()


def test_scenario_hash_changes_with_the_scenario_and_only_then(ceasefire):
    base = scenario_hash(ceasefire)
    assert scenario_hash(variant(ceasefire, description="same numbers, other words")) == base
    assert scenario_hash(variant(ceasefire, events={"ceasefire": {"probability": 0.99}})) != base
    # Run settings travel beside the scenario: they are not part of what it is.
    assert scenario_hash(variant(ceasefire, seed=ceasefire.seed + 1, replications=7)) == base
    # A documented number is its value.
    documented = {"value": 7.0, "reason": "a reason"}
    bare = variant(ceasefire, channels={"military": {"wind_down": documented["value"]}})
    assert scenario_hash(variant(bare, channels={"military": {"wind_down": documented}})) == (
        scenario_hash(bare)
    )


def test_existing_run_is_not_overwritten_without_force(tmp_path, baseline):
    out = tmp_path / "run"
    run(baseline, replications=200, horizon=12, workers=1, out=out)
    with pytest.raises(UserError, match="already exists; use --resume"):
        run(baseline, replications=200, horizon=12, workers=1, out=out)
    run(baseline, replications=300, horizon=12, workers=1, out=out, force=True)
    assert json.loads((out / "manifest.json").read_text())["replications"] == 300


def test_force_refuses_to_delete_a_directory_that_is_not_a_run(tmp_path, baseline):
    (tmp_path / "notes.txt").write_text("precious")
    with pytest.raises(UserError, match="not a run directory"):
        run(baseline, replications=100, horizon=12, workers=1, out=tmp_path, force=True)
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_finished_runs_reload_for_reporting(reference):
    loaded = load_run(reference)
    assert loaded.outcomes.replications == SETTINGS["replications"]
    pd.testing.assert_frame_equal(loaded.survival, pd.read_csv(reference / "survival.csv"))


def _interrupted_run(tmp_path, scenario):
    """A run directory whose manifest says running, as a killed run leaves it."""
    whole = run(scenario, replications=200, horizon=12, workers=1, out=tmp_path / "whole")
    out = tmp_path / "partial"
    run(scenario, replications=200, horizon=12, workers=1, out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "running"
    (out / "manifest.json").write_text(json.dumps(manifest))
    return whole, out


def test_resume_with_an_edited_scenario_says_it_uses_the_stored_one(tmp_path, baseline, ceasefire):
    whole, out = _interrupted_run(tmp_path, baseline)
    with pytest.warns(Advisory, match="differs from the one .* stored scenario"):
        resumed = run(ceasefire, horizon=12, resume=out)
    assert resumed.scenario.name == "baseline"
    assert same_outputs(whole.directory, out)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"seed": 4}, "seed 4 (the run has"),
        ({"replications": 300}, "replications 300 (the run has 200)"),
        ({"chunk_size": 50}, "chunk size 50 (the run has 10000)"),
        ({"horizon": 24}, "horizon 24 (the run has 12)"),
    ],
)
def test_resume_refuses_settings_that_differ_and_names_them(tmp_path, baseline, given, named):
    _, out = _interrupted_run(tmp_path, baseline)
    with pytest.raises(UserError, match=re.escape(named)):
        run(None, resume=out, **given)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert len(sessions) == 1, "a refused resume adds no session"


def test_a_resumed_run_keeps_every_session(tmp_path, baseline):
    _, out = _interrupted_run(tmp_path, baseline)
    run(None, resume=out)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert len(sessions) == 2
    assert all(session["finished_utc"] for session in sessions)


def test_ctrl_c_while_the_outputs_are_written_resumes_on_any_number_of_workers(tmp_path, baseline):
    # Every chunk is saved by then: the resume has none to run, only the outputs to write
    # (it used to ask for a pool of no workers, and failed, unless given one worker).
    whole = run(baseline, replications=400, chunk_size=100, horizon=12, workers=1,
                out=tmp_path / "whole")  # fmt: skip

    def interrupted(result):
        raise KeyboardInterrupt

    out = tmp_path / "partial"
    with pytest.raises(RunInterrupted) as caught:
        run(baseline, replications=400, chunk_size=100, horizon=12, workers=1, out=out,
            meanwhile=interrupted)  # fmt: skip
    assert f"4 of 4 chunks are saved in {out}; continue with: alliance-sim run --resume {out}" in (
        str(caught.value)
    )
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    resumed = run(None, resume=out, workers=2)
    assert resumed.directory == out
    assert same_outputs(whole.directory, out)


def test_a_ctrl_c_lost_in_a_weakref_callback_still_stops_the_run(tmp_path, baseline):
    # Python prints a KeyboardInterrupt raised in a weakref callback as ignored, and drops
    # it: the run finished with status 0 (a reviewer's Ctrl-C, 3 times in 18). Counted, it
    # stops the run as any Ctrl-C does, without the traceback (pytest would fail on it).
    import weakref

    from sim.engine.executors import ctrl_c_counted

    class Agent:
        pass

    def lose_a_ctrl_c(result):
        agent = Agent()
        watcher = weakref.ref(agent, lambda _: signal.raise_signal(signal.SIGINT))
        del agent  # the callback runs here, and the interrupt raised in it is lost
        assert watcher() is None
        return []

    out = tmp_path / "run"
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal's
    try:
        with ctrl_c_counted(), pytest.raises(RunInterrupted, match="--resume"):
            run(baseline, replications=200, chunk_size=100, horizon=12, workers=1, out=out,
                meanwhile=lose_a_ctrl_c)  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, previous)
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"


def test_dask_missing_gives_install_advice(monkeypatch, baseline):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(UserError) as caught:
        run(baseline, replications=100, horizon=12, executor="dask")
    assert str(caught.value) == DASK_MISSING
    assert "pip install 'alliance-sim[dask]'" in DASK_MISSING


@pytest.mark.slow
def test_killed_run_resumes_to_identical_outputs(tmp_path, uninterrupted):
    out = tmp_path / "killed"
    process = start_flagship_run(out, "--workers", "1", "--quiet")
    wait_for_chunks(out, 2, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    resumed = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--resume", str(out), "--workers", "2", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert same_outputs(uninterrupted, out)
    # The killed session is recorded (unfinished) beside the one that resumed it.
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [session["finished_utc"] is None for session in sessions] == [True, False]
    assert [session["workers"] for session in sessions] == [1, 2]


@pytest.mark.slow
def test_ctrl_c_exits_cleanly_and_says_how_to_resume(tmp_path, uninterrupted):
    out = tmp_path / "interrupted"
    process = start_flagship_run(out, "--workers", "2")
    wait_for_chunks(out, 1, process)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert f"alliance-sim run --resume {out}" in stderr
    resumed = run(resume=out, workers=1)
    assert resumed.directory == out
    assert same_outputs(uninterrupted, out)


@pytest.mark.slow
def test_progress_bar_reports_replications_per_second(tmp_path):
    fewer = ("--workers", "1", "--replications", "10000")  # two chunks: the bar moves twice
    process = start_flagship_run(tmp_path / "progress", *fewer)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0
    assert "rep/s" in stderr
    quiet = start_flagship_run(tmp_path / "quiet", *fewer, "--quiet")
    _, stderr = quiet.communicate(timeout=600)
    assert "rep/s" not in stderr


def test_workers_beyond_a_few_per_core_are_capped_with_a_note(baseline):
    from sim.engine.options import MAX_WORKERS_PER_CORE, RunOptions, available_cores

    limit = MAX_WORKERS_PER_CORE * available_cores()
    with pytest.warns(Advisory, match=rf"1000 workers asked on .* starting {limit} \(4 per core\)"):
        assert RunOptions.of(workers=1000).worker_count() == limit
    with warnings.catch_warnings():
        warnings.simplefilter("error", Advisory)
        assert RunOptions.of(workers=limit).worker_count() == limit
        assert RunOptions.of(workers=1000, scheduler="tcp://h:8786").worker_count() == 1000
    with pytest.warns(Advisory, match="1000 workers asked"):
        result = run(baseline, replications=100, horizon=12, workers=1000)
    assert result.replications == 100


def test_a_finished_chunk_frees_its_memory_without_a_garbage_collection(baseline):
    # A Mesa model and its agents refer to each other: left to Python's rare full
    # collections, a worker held several dead chunks at once (800 MiB each in a 1M run),
    # and a full collection after each chunk cost 0.1 s in a process with pandas loaded.
    import dataclasses
    import gc
    import tracemalloc

    def array_bytes(value) -> int:
        if isinstance(value, np.ndarray):
            return value.nbytes
        if isinstance(value, dict | list | tuple):
            values = value.values() if isinstance(value, dict) else value
            return sum(array_bytes(v) for v in values)
        if dataclasses.is_dataclass(value):
            return sum(array_bytes(getattr(value, f.name)) for f in dataclasses.fields(value))
        return 0

    chunk_outcomes(baseline, seed=3, index=0, size=2000)  # caches filled once
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        outcomes = chunk_outcomes(baseline, seed=3, index=1, size=2000)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    kept = array_bytes(outcomes)
    assert 0 < kept < held
    assert held - kept < 0.05 * peak, (held - kept, kept, peak)


def _loaded_modules() -> list[str]:
    return sorted(sys.modules)


@pytest.mark.slow
def test_a_side_process_is_forked_only_from_a_server_this_process_started(monkeypatch):
    from sim.engine import executors

    monkeypatch.setattr(executors, "_started_by", None)
    assert executors.side_process() is None  # a new interpreter would cost more than it saves
    monkeypatch.setattr(executors, "_started_by", os.getpid())
    with executors.side_process() as pool:
        parent = pool.submit(os.getppid).result()
        interrupt = pool.submit(signal.getsignal, signal.SIGINT).result()
        modules = pool.submit(_loaded_modules).result()
    assert parent != os.getpid()  # forked by the fork server, not by this process
    assert interrupt == signal.SIG_IGN  # set up as a worker: Ctrl-C is this process's
    assert "sim.model.model" in modules  # with what the server loaded for the workers


def test_one_chunk_runs_in_process_unless_a_warm_fork_server_would_spare_loading_the_model(
    monkeypatch,
):
    import sim.model.model  # noqa: F401  (a process that has loaded the model)
    from sim.engine import executors
    from sim.engine.options import RunOptions

    options = RunOptions.of(workers=2)
    monkeypatch.setattr(executors, "_started_by", None)
    assert isinstance(executors.make_executor(options, 1), executors.InProcess)
    assert isinstance(executors.make_executor(RunOptions.of(workers=1), 4), executors.InProcess)
    monkeypatch.setattr(executors, "_started_by", os.getpid())
    assert isinstance(executors.make_executor(options, 1), executors.InProcess)
    monkeypatch.delitem(sys.modules, "sim.model.model")  # as in the command line's process
    pool = executors.make_executor(options, 1)
    try:
        assert isinstance(pool, executors.LocalPool)
        assert pool.workers == 1
    finally:
        pool.close()


FREED_BUFFER = """
import sys
import numpy as np, psutil
from sim.engine.executors import return_large_frees_at_once
if sys.argv[1] == "held":
    return_large_frees_at_once()
process = psutil.Process()
first = np.ones(2**21)  # 16 MiB, mapped; freed, it raises glibc's threshold to 16 MiB
del first
before = process.memory_info().rss
second = np.ones(2**21)  # the same size again: from the heap, unless the threshold is held
del second
print((process.memory_info().rss - before) / 2**20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_the_run_process_gives_a_large_freed_buffer_back_to_the_system():
    # Any MALLOC_* variable fixes glibc's thresholds from the start, and Dask's nanny puts
    # MALLOC_TRIM_THRESHOLD_ into the environment of the process that starts it (an
    # earlier test in this process may have): the child gets glibc's defaults.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}

    def kept_mib(mode: str) -> float:
        done = subprocess.run([sys.executable, "-c", FREED_BUFFER, mode], cwd=ROOT,
                              env=environment, capture_output=True, text=True,
                              check=True)  # fmt: skip
        return float(done.stdout)

    assert kept_mib("default") > 12  # glibc's default: the second buffer stays resident
    assert kept_mib("held") < 2
