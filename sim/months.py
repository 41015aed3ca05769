"""Calendar months as integers, so the model can count in months and reports can print dates.

A month is stored as ``12 * year + (month - 1)``; scenario files write ``YYYY-MM``.
"""

from __future__ import annotations

import re

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_MONTH_RE = re.compile(MONTH_PATTERN)
_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_month(text: str) -> int:
    """Turn ``YYYY-MM`` into a month number.

    Raises:
        ValueError: ``text`` is not a ``YYYY-MM`` month.
    """
    if not _MONTH_RE.match(text):
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    year, month = text.split("-")
    return 12 * int(year) + int(month) - 1


def month_offset(value: str | int, start: int) -> int:
    """Months from ``start`` to ``value``: a ``YYYY-MM`` date, or already a number of months."""
    return value if isinstance(value, int) else parse_month(value) - start


def iso_month(number: int) -> str:
    """Turn a month number into ``YYYY-MM``."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_label(number: int) -> str:
    """Turn a month number into a short label for tables, e.g. ``Mar 2027``."""
    return f"{_NAMES[number % 12]} {number // 12}"
