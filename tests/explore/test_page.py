"""The live page in a real browser: it loads, a slider re-runs the scenario, saving works.

Every number is checked against :func:`sim.run` of the same scenario, seed and
replications: the page must show exactly the cells of ``alliance-sim run``'s table.
"""

from __future__ import annotations

import itertools
import re

import pytest

pytest.importorskip("panel", reason="the explore extra is not installed")
pytest.importorskip("pytest_playwright", reason="pytest-playwright is not installed")

import sim
from sim.explore.controls import apply
from sim.reports.tables import markdown_table
from tests.explore.conftest import PAGE_REPLICATIONS
from tests.helpers import alliance_sim

pytestmark = pytest.mark.slow
PROBABILITY = ("events", "ceasefire", "probability")
WAIT = 240_000  # ms: a page runs two scenarios before it shows anything


def _table_rows(markdown: str) -> list[list[str]]:
    """The body rows of the first Markdown table of a text, as lists of cells."""
    text = markdown[markdown.index("\n| ") + 1 :]
    lines = list(itertools.takewhile(lambda line: line.startswith("|"), text.splitlines()))[2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def _shown_rows(page) -> list[list[str]]:
    rows = page.locator(".headline tbody tr")
    return [[c.strip() for c in rows.nth(i).inner_text().split("\t")] for i in range(rows.count())]


def _expected(scenario, changes) -> list[list[str]]:
    result = sim.run(apply(scenario, changes), replications=PAGE_REPLICATIONS,
                     seed=scenario.seed, workers=1)  # fmt: skip
    return _table_rows(markdown_table(result))


def _open(page, url: str) -> None:
    page.goto(url, timeout=WAIT)
    page.locator(".headline tbody tr").first.wait_for(timeout=WAIT)


def _move_to_start(page, control: str, path: tuple) -> None:
    """Drag a control's slider to its lower end with the keyboard; wait for the redraw."""
    page.locator(f".control-{control} .noUi-handle").first.press("Home")
    changed = re.compile(rf"Changed: {re.escape('.'.join(path))} = 0\.0$")
    page.get_by_text(changed).first.wait_for(timeout=WAIT)


def test_page_loads_and_refuses_a_bad_value_with_the_languages_message(page, server, ceasefire):
    url, _ = server
    _open(page, url)
    assert _shown_rows(page) == _expected(ceasefire, {})
    settings = f"{PAGE_REPLICATIONS:,} replications, seed {ceasefire.seed}"
    assert page.get_by_text(settings).first.is_visible()
    assert page.get_by_text(re.compile(r"Changed: nothing$")).first.is_visible()
    box = page.locator(".control-events-ceasefire-probability input").first
    box.fill("1.5")
    box.press("Enter")
    message = "events.ceasefire.probability: expected a value less than or equal to 1, got 1.5"
    page.get_by_text(f"Refused: {message}").first.wait_for(timeout=WAIT)
    assert page.get_by_text("Not applied").first.is_visible()
    assert _shown_rows(page) == _expected(ceasefire, {})  # nothing was run


def test_a_slider_shows_what_sim_run_gives_and_saving_reproduces_it(page, server, ceasefire):
    url, folder = server
    _open(page, url)
    before = _shown_rows(page)
    _move_to_start(page, "events-ceasefire-probability", PROBABILITY)
    shown = _shown_rows(page)
    assert shown == _expected(ceasefire, {PROBABILITY: 0.0})
    assert shown != before  # no ceasefire at all: survival changes

    page.get_by_role("button", name="Save scenario").click()
    page.get_by_text(re.compile("^Wrote")).first.wait_for(timeout=WAIT)
    saved = folder / "ukraine_ceasefire_explored.yaml"
    checked = alliance_sim("validate", str(saved))
    assert checked.returncode == 0, checked.stderr
    ran = alliance_sim("run", str(saved), "--out", str(folder / "run"), "--quiet",
                       "--format", "md", "--workers", "1")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    table = (folder / "run" / "table.md").read_text()
    assert _table_rows(table) == shown
    assert f"{PAGE_REPLICATIONS:,} replications" in table
