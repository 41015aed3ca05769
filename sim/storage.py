"""Writing files so that nothing is lost or half-written, and the same data gives the same bytes.

Every output is written under a temporary name in the same directory, flushed to disk,
then renamed over its final name: a reader sees the old file or the new one, never part
of one. ``.npz`` archives are written by :class:`NpzWriter`, which streams arrays into
the archive piece by piece (memory does not grow with their length), uncompressed, and
stamps every member with a fixed date, so the same arrays always give the same bytes
(``numpy.savez`` records the current time). :func:`stored_arrays` finds where such an
archive's arrays lie in its file, for :func:`read_stored` to read them without opening
the archive again.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import numpy as np

from sim.errors import UserError

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def _sync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` only when the block succeeds.

    Raises:
        UserError: The file cannot be written (no space, no permission, not a
            directory); nothing is left at ``path`` or beside it.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(error, OSError):
            other = error.filename and Path(error.filename) not in (path, temporary)
            detail = f" ({error.filename})" if other else ""
            raise UserError(f"cannot write {path}: {error.strerror or error}{detail}") from None
        raise
    _sync_directory(path.parent)


def refuse_to_replace(paths: Iterable[Path], force: bool, elsewhere: str = "another --out") -> None:
    """Refuse, before anything is written, to replace files a command would write.

    Args:
        paths: The files the command is about to write.
        force: Replace them (the command's ``--force``).
        elsewhere: How to write somewhere else instead, as the message suggests it.

    Raises:
        UserError: Some exist and ``force`` is false; the message names them and says how
            to replace them or write elsewhere.
    """
    if force:
        return
    existing = [str(path) for path in paths if Path(path).exists()]
    if not existing:
        return
    if len(existing) == 1:
        raise UserError(f"{existing[0]} already exists; use --force to replace it, or {elsewhere}")
    more = f" and {len(existing) - 2} more" if len(existing) > 2 else ""
    raise UserError(
        f"{', '.join(existing[:2])}{more} already exist; use --force to replace them, "
        f"or {elsewhere}"
    )


def write_text(path: Path, text: str) -> None:
    """Write text atomically."""
    with atomic_file(path, "w") as handle:
        handle.write(text)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically, indented, keys in their given order (order can carry meaning)."""
    write_text(path, json.dumps(data, indent=2) + "\n")


class NpzWriter:
    """Writes ``.npz`` archives deterministically, an array at a time, a piece at a time.

    Use it as a context manager: the archive is finished (closed) when the block ends,
    also when it fails.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        # Stored, not deflated: zlib, even at level 1, took 1.9 s of CPU for the 45 MB of a
        # 100,000-replication run (to 20 MB), a fifth of the simulation's own CPU time.
        self._zip = zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED)

    def write(self, name: str, dtype: np.dtype, length: int, pieces: Iterable[np.ndarray]) -> None:
        """Write a 1-D array of ``length`` items of ``dtype`` given as consecutive pieces."""
        dtype = np.dtype(dtype)
        info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_DATE)
        info.compress_type = self._zip.compression
        info.external_attr = 0o644 << 16
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
        header["shape"] = (length,)
        written = 0
        with self._zip.open(info, "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, header)
            for piece in pieces:
                piece = np.ascontiguousarray(piece, dtype=dtype)
                member.write(piece.tobytes())
                written += piece.size
        if written != length:
            raise ValueError(f"{name}: wrote {written} items, expected {length}")

    def close(self) -> None:
        """Finish the archive."""
        self._zip.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write whole 1-D arrays to ``path`` atomically and deterministically."""
    with atomic_file(path) as handle, NpzWriter(handle) as writer:
        for name, array in arrays.items():
            writer.write(name, array.dtype, array.size, [array])


StoredArray = tuple[int, np.dtype, int]
"""Where a 1-D array lies in an uncompressed ``.npz`` file: its data's offset, dtype, length."""


def stored_arrays(path: Path, names: Sequence[str]) -> list[StoredArray | None]:
    """Where the named 1-D arrays of an uncompressed ``.npz`` file lie (None: not in it).

    Opening an archive reads its whole directory, which for a chunk with its drawn
    parameters (some 475 members) takes 9 ms: to read a few hundred arrays from a
    thousand archives one array at a time, find them all at once and read them by offset.

    Raises:
        ValueError: An array is compressed, or not a 1-D array in C order.
    """
    found: list[StoredArray | None] = []
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        members = {info.filename: info for info in archive.infolist()}
        for name in names:
            info = members.get(f"{name}.npy")
            if info is None:
                found.append(None)
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{path}: {name} is compressed, not stored")
            # A member's data follows its local header: 30 bytes, whose last four give the
            # lengths of the name and extra field that come next (PKWARE APPNOTE 4.3.7).
            raw.seek(info.header_offset)
            name_length, extra_length = struct.unpack("<HH", raw.read(30)[26:30])
            raw.seek(info.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(raw)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran_order, dtype = read_header(raw)
            if len(shape) != 1 or fortran_order:
                raise ValueError(f"{path}: {name} is not a 1-D array in C order")
            found.append((raw.tell(), dtype, shape[0]))
    return found


def read_stored(path: Path, where: StoredArray | None) -> np.ndarray | None:
    """Read an array that :func:`stored_arrays` found (None where it found none).

    Raises:
        ValueError: The file ends before the array does.
    """
    if where is None:
        return None
    offset, dtype, length = where
    array = np.fromfile(path, dtype=dtype, count=length, offset=offset)
    if array.size != length:
        raise ValueError(f"{path} ends after {array.size} of {length} items of an array")
    return array
