"""Treaty agents: the war covariates read by calendar year; an ended treaty's practice."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.accelerate import VARIABLE
from sim.model.model import AllianceModel
from sim.model.treaties import TreatyAgent
from sim.scenario import override

TREATY, PRACTICE = "mutual_defence_treaty", "defence_treaty"


def only(scenario, **events):
    """The scenario with none of its own or its world's events, and ``events`` added."""
    return override(scenario, {"events": dict.fromkeys(scenario.events) | events})


def test_the_war_covariates_are_read_by_calendar_year(ceasefire, monkeypatch):
    # Fighting stops at once in November 2025 (month 8 of a run from March 2025). The data
    # the hazard comes from are yearly: 2025 counts as a year at war to its end (month 9),
    # war_ended holds in the two calendar years after (January 2026 to December 2027,
    # months 10 to 33), and neither from January 2028 (month 34).
    stop = {"timing": {"month": "2025-11"},
            "effects": [{"target": "russia.war_intensity", "set": 0.1}]}  # fmt: skip
    seen: dict[str, list[float]] = {"war": [], "war_ended": []}
    reading = TreatyAgent._covariate

    def recorded(self, key, covariate):
        value = reading(self, key, covariate)
        if key in seen:
            seen[key].append(float(value[0]))
        return value

    monkeypatch.setattr(TreatyAgent, "_covariate", recorded)
    model = AllianceModel(only(ceasefire, ceasefire=stop), 1, seed=1, collect=False)
    for _ in range(40):
        model.step()
    assert model.read("russia.war_intensity")[0] == pytest.approx(0.1)
    months = np.arange(40)
    np.testing.assert_array_equal(seen["war"], months <= 9)
    np.testing.assert_array_equal(seen["war_ended"], (months >= 10) & (months <= 33))


@pytest.mark.parametrize("kernels", ["numba", "numpy"])
def test_an_ended_treaty_takes_its_practices_lock_in(baseline, kernels, monkeypatch):
    # Abrogated in September 2025 (month 6), with both parties still wanting the practice
    # as much as before: its lock-in (0.85 at the start) goes at once, and it is broken off
    # or wound down at its own pace, 12 months from 0.7 to 0.1 without lock-in.
    monkeypatch.setenv(VARIABLE, kernels)
    abrogated = {"timing": {"month": "2025-09"},
                 "effects": [{"target": f"{TREATY}.in_force", "set": 0}]}  # fmt: skip
    model = AllianceModel(only(baseline, abrogated=abrogated), 2000, seed=5, collect=False)
    assert (model.kernels is None) == (kernels == "numpy")
    practice = model.channel(PRACTICE)
    treaty = model.treaty(TREATY)
    for _ in range(5):
        model.step()
    # A few treaties have ended by their hazard already, and their practice's lock-in with
    # them; a few practices broke off by accident, which resets it too.
    assert np.mean(treaty.in_force) > 0.9
    assert np.mean(practice.lock_in_base[treaty.in_force] > 0.8) > 0.98
    model.step()  # month 5 decides that the treaty ends in month 6
    now = treaty.end_month == 6
    assert now.mean() > 0.9
    assert treaty.end_month.max() == 6
    np.testing.assert_array_equal(practice.lock_in_base[now], 0)
    # Where the treaty ended earlier, lock-in has begun to accrue again while the practice
    # lasts (0.002 a month at full intensity).
    assert practice.lock_in_base[~now].max() < 0.02
    outcomes = model.run()
    row = outcomes.channels.index(PRACTICE)
    ended, lag = outcomes.event[row], outcomes.month[row] - treaty.end_month
    # Every replication's practice ends, nearly always after its text (a practice broken
    # off by accident just before cannot regrow once the text has gone); its end month is
    # when it fell below its threshold (or broke off). Winding down alone from 0.85 takes
    # about 14 months, so a median lag of 11 or less (9 here; its standard error is under
    # half a month) shows the decided breaks at work too; with the lock-in kept, or the
    # ceiling not counted as unwanted, it would be longer (24-26 months with neither).
    assert ended.all()
    assert np.mean(lag > 0) > 0.97
    assert np.median(lag) <= 11
    assert np.percentile(lag, 95) <= 20
