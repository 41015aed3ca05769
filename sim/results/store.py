"""The columnar store: one row per replication in ``replications.parquet``.

A run's ``outcomes.npz`` keeps arrays by domain and field, as the statistics read them;
``replications.parquet`` keeps the same replications as rows, with what they drew, so
that pandas, DuckDB, R or a scenario-discovery algorithm can ask which assumptions went
with which ending. Columns (documented for users in docs/outputs.md):

- ``replication``: the replication's index in the run (rows are in this order);
- ``<domain>__month`` (int16, null where the domain had not ended by the horizon),
  ``<domain>__event`` (bool), ``<domain>__spells`` and ``<domain>__alive_months`` (int16);
- ``event__<name>__occurred`` (bool) and ``event__<name>__month`` (int16, null where the
  event did not happen by the horizon);
- ``param__<key path>`` (float32): every parameter drawn per replication.

Each chunk is written as a part file beside its outcomes, before them, so that a saved
chunk always has its part; the parts are joined in chunk order, one row group each, when
the run is complete. Memory holds one chunk at a time, and the same chunks give the same
bytes however many workers ran them. A sweep keeps its table (one row per point, domain
and horizon) the same way, in ``sweep.parquet``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.model.outcomes import Outcomes
from sim.storage import atomic_file

REPLICATIONS = "replications.parquet"
REPLICATION = "replication"
PARAMETER = "param__"
"""Prefix of the columns of drawn parameters (then the parameter's key path)."""
EVENT = "event__"
"""Prefix of the columns of scenario events (then ``<name>__occurred`` or ``__month``)."""
_FINAL = {"compression": "zstd", "use_dictionary": False}
"""How the joined file is encoded: drawn values are nearly all distinct, so dictionary
encoding would cost time (four times as much) and space for nothing."""
_PART = {"compression": "none", "use_dictionary": False, "write_statistics": False}
"""How a chunk's part is encoded: a temporary file, written as fast as possible."""


def replication_table(outcomes: Outcomes, first: int = 0) -> pa.Table:
    """The replications of a chunk (or a run) as rows.

    Args:
        outcomes: The outcomes, with the parameters drawn per replication.
        first: The index of the first replication in the run.
    """
    count = outcomes.replications
    columns: dict[str, pa.Array] = {
        REPLICATION: pa.array(np.arange(first, first + count, dtype=np.int64))
    }
    for row, domain in enumerate(outcomes.channels):
        ended = outcomes.event[row]
        columns[f"{domain}__month"] = pa.array(outcomes.month[row], mask=~ended)
        columns[f"{domain}__event"] = pa.array(ended)
        columns[f"{domain}__spells"] = pa.array(outcomes.spells[row])
        columns[f"{domain}__alive_months"] = pa.array(outcomes.alive_months[row])
    for row, event in enumerate(outcomes.events):
        months = outcomes.event_months[row]
        columns[f"{EVENT}{event}__occurred"] = pa.array(months >= 0)
        columns[f"{EVENT}{event}__month"] = pa.array(months, mask=months < 0)
    for key, values in outcomes.parameters.items():
        columns[f"{PARAMETER}{key}"] = pa.array(np.asarray(values, dtype=np.float32))
    return pa.table(columns)


def write_part(path: Path, outcomes: Outcomes) -> None:
    """Write one chunk's rows atomically (their ``replication`` is set when parts are joined)."""
    with atomic_file(path) as handle:
        pq.write_table(replication_table(outcomes), handle, **_PART)


def join_parts(path: Path, parts: list[Path]) -> None:
    """Join chunk parts, in the order given, into one file of one row group per chunk.

    Raises:
        ValueError: The parts do not have the same columns.
    """
    first = 0
    with atomic_file(path) as handle:
        writer: pq.ParquetWriter | None = None
        try:
            for part in parts:
                table = pq.read_table(part)
                rows = np.arange(first, first + table.num_rows, dtype=np.int64)
                table = table.set_column(0, REPLICATION, pa.array(rows))
                first += table.num_rows
                if writer is None:
                    writer = pq.ParquetWriter(handle, table.schema, **_FINAL)
                elif not table.schema.equals(writer.schema):
                    raise ValueError(f"{part} does not have the columns of the parts before it")
                writer.write_table(table, row_group_size=max(table.num_rows, 1))
        finally:
            if writer is not None:
                writer.close()


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """Write a data frame (a sweep's table) as a Parquet file, atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_file(path) as handle:
        pq.write_table(table, handle, **_FINAL)


def read_replications(
    path: Path, columns: list[str] | None = None, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """Read ``replications.parquet`` (or some of its columns or rows) into a data frame.

    Args:
        path: The file.
        columns: The columns to read (default: all).
        rows: Sorted indices of the rows to keep (default: all). The file is read a batch
            at a time, so a sample of a large run needs the memory of the sample only.
    """
    if rows is None:
        return pq.read_table(path, columns=columns).to_pandas()
    kept, first = [], 0
    for batch in pq.ParquetFile(path).iter_batches(columns=columns):
        here = rows[(rows >= first) & (rows < first + batch.num_rows)] - first
        kept.append(pa.Table.from_batches([batch.take(pa.array(here))]))
        first += batch.num_rows
    return pa.concat_tables(kept).to_pandas()


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of drawn parameters in a replication table."""
    return [c for c in frame.columns if c.startswith(PARAMETER)]


def event_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of events' occurrence in a replication table."""
    return [c for c in frame.columns if c.startswith(EVENT) and c.endswith("__occurred")]
