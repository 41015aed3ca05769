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

The file is written as the run goes, by a :class:`ReplicationWriter`: a chunk's rows become
one row group as soon as the chunks before it are in, so that a finished run has only the
file's footer left to write, and each value is encoded once. Memory holds the few chunks
that finished ahead of their turn; the same chunks give the same bytes however many
workers ran them, and a resumed run rebuilds the file from its saved chunks, which keep
their draws. A sweep keeps its table (one row per point, domain and horizon) in
``sweep.parquet``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import UserError
from sim.model.outcomes import Outcomes
from sim.storage import atomic_file

REPLICATIONS = "replications.parquet"
REPLICATION = "replication"
PARAMETER = "param__"
"""Prefix of the columns of drawn parameters (then the parameter's key path)."""
EVENT = "event__"
"""Prefix of the columns of scenario events (then ``<name>__occurred`` or ``__month``)."""
_FINAL = {"compression": "zstd", "compression_level": 1, "use_dictionary": False}
"""How the file is encoded: drawn values are nearly all distinct, so dictionary encoding
would cost time (four times as much) and space for nothing; zstd's level 1 gives files as
small as its default level in 15% less time."""


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


class ReplicationWriter:
    """Writes ``replications.parquet`` a chunk at a time, in chunk order, atomically.

    Use it as a context manager around the run: the file takes its final name when the
    block ends without error, and nothing is left of it otherwise.
    """

    def __init__(self, path: Path) -> None:
        self._file = contextlib.ExitStack()
        self._handle: IO[bytes] = self._file.enter_context(atomic_file(path))
        self._writer: pq.ParquetWriter | None = None
        self._first = 0

    def append(self, outcomes: Outcomes) -> None:
        """Add the next chunk's replications, with their draws, as one row group.

        Raises:
            UserError: The chunk does not have the columns of the chunks before it (a
                resumed run whose first chunks another version of alliance-sim saved).
        """
        table = replication_table(outcomes, self._first)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._handle, table.schema, **_FINAL)
        elif not table.schema.equals(self._writer.schema):
            raise UserError(
                "a chunk does not have the replication columns of the chunks before it "
                "(saved by another version of alliance-sim?): run the scenario again"
            )
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._first += table.num_rows

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        failed = None
        if self._writer is not None:
            try:
                self._writer.close()  # writes the footer: a full disk may strike here
            except BaseException as closing:
                failed = closing
                if error is None:
                    kind, error, traceback = type(closing), closing, closing.__traceback__
        # The temporary file is discarded on any error, this one included: a file without
        # its footer must not take the final name. An OSError comes back as a UserError.
        self._file.__exit__(kind, error, traceback)
        if failed is not None and failed is error:
            raise failed


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
