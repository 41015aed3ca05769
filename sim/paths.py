"""Where the project's own files live, relative to the repository this package sits in."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
CALIBRATION = ROOT / "calibration"
