"""The columnar store: replications.parquet holds a run's outcomes, events and draws."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.engine.runner import run
from sim.errors import RunInterrupted
from sim.results import load_run
from sim.results.rundir import RunDirectory
from sim.results.store import REPLICATIONS, parameter_columns, read_replications
from tests.helpers import same_outputs

SETTINGS = {"replications": 600, "seed": 11, "horizon": 24, "chunk_size": 200}


@pytest.fixture(scope="module")
def stored(tmp_path_factory, ceasefire):
    out = tmp_path_factory.mktemp("store") / "run"
    on_disk = run(ceasefire, **SETTINGS, workers=1, out=out, progress=False)
    in_memory = run(ceasefire, **SETTINGS, workers=1, progress=False)
    return out, on_disk, in_memory


def test_rows_equal_the_outcomes_and_the_draws(stored):
    out, _, in_memory = stored
    frame = load_run(out).replication_frame()
    outcomes = in_memory.outcomes
    assert frame.replication.tolist() == list(range(SETTINGS["replications"]))
    for row, domain in enumerate(outcomes.channels):
        ended = outcomes.event[row]
        assert (frame[f"{domain}__event"].to_numpy() == ended).all()
        months = frame[f"{domain}__month"].to_numpy()
        assert np.isnan(months[~ended]).all()
        assert (months[ended] == outcomes.month[row][ended]).all()
        assert (frame[f"{domain}__spells"].to_numpy() == outcomes.spells[row]).all()
        assert (frame[f"{domain}__alive_months"].to_numpy() == outcomes.alive_months[row]).all()
    for row, event in enumerate(outcomes.events):
        months = outcomes.event_months[row]
        assert (frame[f"event__{event}__occurred"].to_numpy() == (months >= 0)).all()
        stored_months = frame[f"event__{event}__month"].to_numpy()
        assert (stored_months[months >= 0] == months[months >= 0]).all()
        assert np.isnan(stored_months[months < 0]).all()
    columns = parameter_columns(frame)
    assert columns == [f"param__{key}" for key in outcomes.parameters]
    assert len(columns) > 100, "every judged number is drawn per replication"
    for key, values in outcomes.parameters.items():
        assert (frame[f"param__{key}"].to_numpy() == values).all()
    # The in-memory run builds the same frame from its outcomes.
    assert in_memory.replication_frame().equals(frame)


def test_one_row_group_per_chunk_and_no_parts_left(stored):
    out, _, _ = stored
    metadata = pq.ParquetFile(out / REPLICATIONS).metadata
    assert metadata.num_row_groups == SETTINGS["replications"] // SETTINGS["chunk_size"]
    assert not (out / "chunks").exists()
    assert REPLICATIONS in load_run(out).manifest["outputs"]


def test_an_interrupted_and_resumed_run_holds_the_same_rows(
    tmp_path, monkeypatch, ceasefire, stored
):
    out, _, _ = stored
    save = RunDirectory.save_chunk
    calls = []

    def save_then_stop(self, index, outcomes):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(index)
        save(self, index, outcomes)

    monkeypatch.setattr(RunDirectory, "save_chunk", save_then_stop)
    partial = tmp_path / "partial"
    with pytest.raises(RunInterrupted):
        run(ceasefire, **SETTINGS, workers=1, out=partial, progress=False)
    assert len(list((partial / "chunks").glob("*.npz"))) == 2
    assert not (partial / REPLICATIONS).exists()
    monkeypatch.setattr(RunDirectory, "save_chunk", save)
    run(None, resume=partial, progress=False)
    resumed, whole = (pq.read_table(d / REPLICATIONS) for d in (partial, out))
    assert resumed.equals(whole)
    # The writer's metadata is the same too: the files are equal byte for byte.
    assert same_outputs(out, partial)


def test_a_sample_of_rows_is_read_a_batch_at_a_time(stored):
    out, _, _ = stored
    rows = np.array([0, 5, 199, 200, 599])
    columns = ["replication", "military__event"]
    sample = read_replications(out / REPLICATIONS, columns, rows)
    whole = read_replications(out / REPLICATIONS, columns)
    assert sample.equals(whole.iloc[rows].reset_index(drop=True))


def test_a_chunk_with_other_columns_is_refused_and_no_file_is_left(stored, tmp_path):
    import dataclasses

    from sim.errors import UserError
    from sim.results.store import ReplicationWriter

    _, _, in_memory = stored
    outcomes = in_memory.outcomes
    fewer = dict(list(outcomes.parameters.items())[1:])
    path = tmp_path / REPLICATIONS
    other = dataclasses.replace(outcomes, parameters=fewer)

    def write_both() -> None:
        with ReplicationWriter(path) as rows:
            rows.append(outcomes)
            rows.append(other)

    with pytest.raises(UserError, match="another version"):
        write_both()
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_the_file_is_closed_leaves_no_file(stored, tmp_path, monkeypatch):
    # Closing writes the footer; a disk that fills then gave a traceback and left the file,
    # without its footer, under its final name.
    import errno

    from sim.errors import UserError
    from sim.results.store import ReplicationWriter

    close = pq.ParquetWriter.close

    def full(self):
        close(self)
        raise OSError(errno.ENOSPC, "No space left on device")

    _, _, in_memory = stored
    path = tmp_path / REPLICATIONS
    monkeypatch.setattr(pq.ParquetWriter, "close", full)
    with (
        pytest.raises(UserError, match=r"cannot write .*: No space left on device"),
        ReplicationWriter(path) as rows,
    ):
        rows.append(in_memory.outcomes)
    assert list(tmp_path.iterdir()) == []
