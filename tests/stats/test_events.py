"""The events table (sim.stats.events) against direct computations on the outcome arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.months import iso_month, parse_month
from sim.stats.events import EVENT_COLUMNS, event_table


def test_event_table_matches_the_outcome_arrays(chunked_run):
    outcomes = chunked_run.outcomes
    start = parse_month(chunked_run.scenario.start)
    table = event_table(chunked_run.summary, start).set_index("event")
    assert ["event", *table.columns] == EVENT_COLUMNS
    assert list(table.index) == list(outcomes.events)
    for row, event in enumerate(outcomes.events):
        months = outcomes.event_months[row]
        happened = months[months >= 0]
        here = table.loc[event]
        assert here.replications == months.size
        assert here.happened == happened.size
        assert here.p_happened == pytest.approx(happened.size / months.size)
        interval = stats.binomtest(happened.size, months.size).proportion_ci(method="wilson")
        assert (here.ci_low, here.ci_high) == pytest.approx((interval.low, interval.high))
        if happened.size:
            median = int(np.quantile(happened, 0.5, method="inverted_cdf"))
            assert here.median_month == median
            assert here.median_date == iso_month(start + median)
        else:
            assert pd.isna(here.median_month)
    assert table.loc["ceasefire", "p_happened"] > 0.9
