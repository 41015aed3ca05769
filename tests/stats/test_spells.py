"""The spells table (sim.stats.spells) against direct computations on the outcome arrays."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.stats.spells import SPELL_COLUMNS, spells_table


def test_spells_table_matches_the_outcome_arrays(chunked_run):
    outcomes = chunked_run.outcomes
    table = spells_table(chunked_run.summary).set_index("domain")
    assert ["domain", *table.columns] == SPELL_COLUMNS
    for row, domain in enumerate(outcomes.channels):
        here = table.loc[domain]
        established = outcomes.emerged[row] >= 0
        assert here.p_established == pytest.approx(established.mean())
        assert here.mean_spells == pytest.approx(outcomes.spells[row].mean())
        assert here.mean_alive_months == pytest.approx(outcomes.alive_months[row].mean())
        assert here.mean_interruptions == pytest.approx(outcomes.interruptions[row].mean())
        endings = pd.Series(outcomes.ending[row][established]).value_counts(normalize=True)
        for code, column in ((1, "p_lapsed"), (2, "p_broken_off"), (3, "p_formally_ended"),
                             (0, "p_not_ended")):  # fmt: skip
            assert here[column] == pytest.approx(endings.get(code, 0.0)), (domain, column)
    assert table.loc["mutual_defence_treaty", "p_formally_ended"] > 0
    assert table.loc["military", "p_lapsed"] > 0
