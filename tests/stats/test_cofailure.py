"""Co-failure (sim.stats.cofailure) against direct computations, a bootstrap and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.months import iso_month, parse_month
from sim.stats.cofailure import CO_FAILURE_COLUMNS, co_failure, strongest_pairs
from sim.stats.survival import Summary


def _ended(outcomes, horizon: int) -> pd.DataFrame:
    """Per replication and domain: whether its first spell had ended by ``horizon``."""
    ended = outcomes.event & (outcomes.month <= horizon)
    return pd.DataFrame(ended.T, columns=list(outcomes.channels))


def test_co_failure_matches_a_direct_pandas_computation(chunked_run):
    outcomes = chunked_run.outcomes
    start = parse_month(chunked_run.scenario.start)
    table = co_failure(chunked_run.summary, start)
    assert list(table.columns) == CO_FAILURE_COLUMNS
    domains = len(outcomes.channels)
    assert len(table) == domains * (domains - 1) // 2 * 4
    for h in (24, 120):
        ended = _ended(outcomes, h)
        here = table[table.horizon == h].set_index(["domain_a", "domain_b"])
        for (a, b), row in here.iterrows():
            joint = pd.crosstab(ended[a], ended[b], normalize=True)
            both = joint.loc[True, True] if True in joint.index and True in joint.columns else 0
            p_a, p_b = ended[a].mean(), ended[b].mean()
            assert row.p_both == pytest.approx(both, abs=1e-12)
            assert (row.p_a, row.p_b) == pytest.approx((p_a, p_b), abs=1e-12)
            assert row.p_independent == pytest.approx(p_a * p_b, abs=1e-12)
            assert row.difference == pytest.approx(both - p_a * p_b, abs=1e-12)
            if p_a * p_b > 0:
                assert row.lift == pytest.approx(both / (p_a * p_b))
            else:
                assert np.isnan(row.lift)
        assert (here.date == iso_month(start + h)).all()


def test_co_failure_interval_matches_a_bootstrap(chunked_run):
    outcomes = chunked_run.outcomes
    ended = _ended(outcomes, 120)
    table = co_failure(chunked_run.summary, 0)
    rng = np.random.default_rng(5)
    for a, b in (("military", "defence_treaty"), ("military", "security_services")):
        row = table[(table.horizon == 120) & (table.domain_a == a) & (table.domain_b == b)]
        row = row.iloc[0]
        x, y = ended[a].to_numpy(), ended[b].to_numpy()
        draws = []
        for _ in range(400):
            pick = rng.integers(0, x.size, x.size)
            xs, ys = x[pick], y[pick]
            draws.append((xs & ys).mean() - xs.mean() * ys.mean())
        half = (row.difference_high - row.difference_low) / 2
        assert half / 1.959964 == pytest.approx(np.std(draws), rel=0.15), (a, b)


def test_delta_interval_covers_the_true_difference():
    # Domains that end together: P(a) = 0.3, P(b) = 0.4, P(both) = 0.2; difference 0.08.
    rng = np.random.default_rng(6)
    cells = rng.multinomial(400, [0.2, 0.1, 0.2, 0.5], size=2000)
    covered = 0
    for both, a_only, b_only, _ in cells:
        co_ended = np.array([[[both + a_only, both], [both, both + b_only]]])
        summary = Summary({"a": _table(400), "b": _table(400)}, np.zeros((1, 1)),
                          report_horizons=(1,), co_ended=co_ended)  # fmt: skip
        row = co_failure(summary, 0).iloc[0]
        covered += row.difference_low <= 0.08 <= row.difference_high
    # Nominal 0.95 over 2,000 trials: SE sqrt(0.95 × 0.05 / 2000) = 0.0049, so the band
    # is ±4.1 SE (and Newcombe's intervals run a little conservative, not below).
    assert 0.93 <= covered / len(cells) <= 0.97


def _table(n: int):
    from sim.stats.survival import LifeTable

    return LifeTable(np.array([0, 0]), np.array([0, n]))


def test_strongest_pairs_rank_by_lift_among_clear_joint_endings(chunked_run):
    table = co_failure(chunked_run.summary, 0)
    top = strongest_pairs(table, 120, count=3)
    assert len(top) == 3
    assert (top.p_both >= 0.01).all()
    assert (top.difference_low > 0).all()
    assert list(top.lift) == sorted(top.lift, reverse=True)
    eligible = table[(table.horizon == 120) & (table.p_both >= 0.01) & (table.difference_low > 0)]
    assert top.lift.iloc[0] == eligible.lift.max()
