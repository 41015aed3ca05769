"""The figures' typeface: DejaVu Sans cut down to the characters figures use, for quick PDFs.

PDF figures embed their fonts as TrueType (journals refuse Type 3 fonts), and matplotlib
makes each embedded copy by subsetting the font file with fontTools, once per PDF for the
ordinary characters and once more for ligatures such as "fi". fontTools parses the whole
file each time: DejaVu Sans, matplotlib's default, has over 6,000 glyphs, and one subset
took 0.17 s on this project's 2-core machine, 1.4 s for the eight of a run's four PDFs.

The house font is DejaVu Sans reduced, once per machine, to the Latin, Greek and
punctuation blocks, arrows and mathematical operators (kerning, ligatures and hinting
kept): about 1,300 glyphs, which fontTools subsets in 0.04 s. Its glyphs are
DejaVu Sans's own, so figures look the same pixel for pixel; a character it lacks is drawn
from the full DejaVu Sans, matplotlib's font fallback. The reduced file is kept in
matplotlib's cache directory under a name that changes with the source font; where it
cannot be written, figures use DejaVu Sans itself.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import matplotlib
from fontTools import subset
from matplotlib import font_manager

from sim.errors import UserError
from sim.storage import atomic_file

SOURCE = "DejaVu Sans"
FAMILY = "DejaVu Sans (alliance-sim figures)"
"""The house font's family name; its PostScript name stays DejaVu Sans's."""
KEPT = (
    (0x0020, 0x024F),  # Basic Latin, Latin-1, Latin Extended-A and -B
    (0x0370, 0x03FF),  # Greek
    (0x2000, 0x20CF),  # punctuation (dashes, quotes), super- and subscripts, currency
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (≤, ≥, ≈, −)
    (0xFB00, 0xFB06),  # Latin ligatures
)
VERSION = 1
"""Changes whenever what the house font keeps changes, so that a new file is built."""


@functools.cache
def families() -> tuple[str, ...]:
    """The ``font.family`` of the figures: the house font, then DejaVu Sans for the rest."""
    try:
        path = house_font()
    except (OSError, UserError):
        return (SOURCE,)  # a read-only cache: the full font, only slower to embed
    font_manager.fontManager.addfont(str(path))
    return (FAMILY, SOURCE)


def house_font() -> Path:
    """The reduced DejaVu Sans, built into matplotlib's cache directory if not already there."""
    source = Path(font_manager.findfont(SOURCE, fallback_to_default=False))
    digest = hashlib.sha256(source.read_bytes() + repr((KEPT, VERSION)).encode()).hexdigest()
    path = Path(matplotlib.get_cachedir()) / f"alliance-sim-figures-{digest[:16]}.ttf"
    if not path.exists():
        _build(source, path)
    return path


def _build(source: Path, path: Path) -> None:
    """Subset ``source`` to :data:`KEPT` and rename its family to :data:`FAMILY`."""
    options = subset.Options()
    options.layout_features = ["*"]  # kerning and ligatures, as DejaVu Sans sets them
    options.hinting = True  # the raster figures are hinted as with the full font
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.glyph_names = True
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]  # FontForge's time stamp: the file would differ per build
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for low, high in KEPT for c in range(low, high + 1)])
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):  # family, full name, typographic family
            record.string = FAMILY
    font.recalcTimestamp = False  # the same source gives the same file
    with atomic_file(path) as handle:
        font.save(handle)
