"""The corpus of malformed scenarios: each file names the line and message it must produce.

A file's first line reads ``# expect: [FILE:]LINE: TEXT``: a problem must be reported at
that line (of FILE, by default the file itself) whose text contains TEXT. An optional
``# suggest: WORD`` line names the expected "did you mean".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.scenario import load_scenario

CORPUS = sorted((Path(__file__).parent / "malformed").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (?:(\S+\.yaml):)?(\d+): (.*)$", re.MULTILINE)
SUGGEST = re.compile(r"^# suggest: (\S+)$", re.MULTILINE)


@pytest.mark.parametrize("file", CORPUS, ids=lambda f: f.stem)
def test_malformed_scenario_reports_line_and_message(file: Path):
    text = file.read_text()
    named, line, message = EXPECT.search(text).groups()
    suggestion = SUGGEST.search(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    where = named or file.name
    here = [p for p in caught.value.problems if p.location and p.location.file.name == where]
    matching = [p for p in here if p.location.line == int(line) and message in str(p)]
    assert matching, f"expected line {line}: {message!r}; got:\n{caught.value}"
    if suggestion:
        assert matching[0].suggestion == suggestion.group(1)


def test_corpus_covers_each_kind_of_mistake():
    assert len(CORPUS) >= 30
