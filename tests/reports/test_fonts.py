"""The figures' typeface: a reduced DejaVu Sans that draws exactly what DejaVu Sans draws."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.errors import UserError
from sim.reports import figures, fonts

# Kerning pairs, ligatures, an en dash, signs, Greek, and Cyrillic (not in the house font).
TEXT = "AVAWAY Tf fi fl ffi 25–75% ≥ 0.95 ≤ × − α β μ σ «Россия» 2035"


def pixels(families: list[str]) -> np.ndarray:
    with matplotlib.rc_context({**figures.STYLE, "font.family": families}):
        figure = Figure(figsize=(4, 1), dpi=300)
        figure.text(0.02, 0.6, TEXT, fontsize=7)
        figure.text(0.02, 0.2, TEXT.upper(), fontsize=6)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy()


def test_the_house_font_draws_the_same_pixels_as_dejavu_sans():
    assert fonts.families() == (fonts.FAMILY, fonts.SOURCE)
    house, full = pixels(list(fonts.families())), pixels([fonts.SOURCE])
    assert (house != 255).any()  # something was drawn
    np.testing.assert_array_equal(house, full)


def test_the_house_font_is_dejavu_sans_reduced_and_renamed(tmp_path, monkeypatch):
    monkeypatch.setattr(matplotlib, "get_cachedir", lambda: str(tmp_path))
    path = fonts.house_font()
    assert path.parent == tmp_path
    source = TTFont(font_manager.findfont(fonts.SOURCE, fallback_to_default=False))
    reduced = TTFont(path)
    assert 500 < len(reduced.getGlyphOrder()) < len(source.getGlyphOrder()) / 4
    assert reduced["name"].getDebugName(1) == fonts.FAMILY
    assert reduced["name"].getDebugName(6) == source["name"].getDebugName(6)  # PostScript
    assert {"GSUB", "GPOS", "fpgm"} <= set(reduced.keys())  # ligatures, kerning, hinting
    cmap = reduced.getBestCmap()
    assert {ord(c) for c in "fi–≥α"} <= set(cmap)
    assert ord("Р") not in cmap
    # Built once: found again, not rebuilt; rebuilt elsewhere, the same bytes.
    built = path.stat().st_mtime_ns
    assert fonts.house_font() == path
    assert path.stat().st_mtime_ns == built
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(matplotlib, "get_cachedir", lambda: str(elsewhere))
    assert fonts.house_font().read_bytes() == path.read_bytes()


def test_without_a_writable_cache_figures_use_dejavu_sans(tmp_path, monkeypatch):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setattr(matplotlib, "get_cachedir", lambda: str(not_a_directory))
    with pytest.raises(UserError, match="cannot write"):
        fonts.house_font()
    assert fonts.families.__wrapped__() == (fonts.SOURCE,)
    assert list(not_a_directory.parent.iterdir()) == [not_a_directory]  # nothing left
