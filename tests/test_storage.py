"""Deterministic archives, and reading their arrays by where they lie in the file."""

from __future__ import annotations

import numpy as np
import pytest

from sim.storage import read_stored, stored_arrays, write_npz


def test_stored_arrays_are_read_where_they_lie(tmp_path):
    arrays = {
        "month": np.arange(7, dtype=np.int16),
        "event": np.array([True, False, True]),
        "intensity": np.linspace(0, 1, 5, dtype=np.float32),
        "empty": np.zeros(0, dtype=np.float64),
    }
    ours, numpys = tmp_path / "ours.npz", tmp_path / "numpy.npz"
    write_npz(ours, arrays)
    np.savez(numpys, **arrays)  # numpy's own writer: another header, no zip64 extra field
    names = ["intensity", "missing", "month", "event", "empty"]
    for path in (ours, numpys):
        found = stored_arrays(path, names)
        assert found[1] is None
        assert read_stored(path, found[1]) is None
        with np.load(path) as archive:
            for name, where in zip(names, found, strict=True):
                if name == "missing":
                    continue
                read = read_stored(path, where)
                assert read.dtype == archive[name].dtype
                np.testing.assert_array_equal(read, archive[name])


def test_a_file_that_ends_before_its_array_is_refused(tmp_path):
    path = tmp_path / "whole.npz"
    write_npz(path, {"x": np.arange(100, dtype=np.int64)})
    (where,) = stored_arrays(path, ["x"])
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[: where[0] + 80])
    with pytest.raises(ValueError, match="ends after 10 of 100 items"):
        read_stored(truncated, where)


def test_a_compressed_or_multidimensional_array_is_refused(tmp_path):
    compressed = tmp_path / "compressed.npz"
    np.savez_compressed(compressed, x=np.arange(3))
    with pytest.raises(ValueError, match="x is compressed"):
        stored_arrays(compressed, ["x"])
    square = tmp_path / "square.npz"
    np.savez(square, x=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="x is not a 1-D array"):
        stored_arrays(square, ["x"])
