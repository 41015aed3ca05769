"""One chunk of replications, as a worker runs it: simulated, and reduced if asked.

These are the functions the executors send to their workers. The module imports the
model (when a chunk runs) and the statistics, nothing of the outputs: a local worker is
forked from a server that has loaded only what these need (:mod:`sim.engine.preload`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from threadpoolctl import threadpool_limits

from sim.stats.survival import Summary

if TYPE_CHECKING:
    from sim.model.outcomes import Outcomes
    from sim.model.parameters import DrawMemo
    from sim.results.settings import RunSettings
    from sim.scenario import Scenario


def simulate_chunk(
    scenario: Scenario,
    settings: RunSettings,
    chunk_index: int,
    size: int,
    tally: bool = True,
    draw_memo: DrawMemo | None = None,
) -> Outcomes:
    """Run one chunk of replications to the scenario's horizon.

    BLAS is held to one thread so a chunk's numbers cannot depend on how many threads
    a matrix product happens to use in the process that runs it. The outcomes carry the
    parameters drawn per replication, for the run's ``replications.parquet``, and, if
    ``tally``, the monthly intensity histograms (observed, never drawn from: the other
    outcomes are the same without them). With a ``draw_memo``, parameters an earlier
    chunk drew alike are taken from it (the same numbers).
    """
    # Imported here: a run's own process, whose workers simulate, need not load Mesa.
    from sim.model.model import AllianceModel

    with threadpool_limits(limits=1):
        model = AllianceModel(
            scenario,
            size,
            seed=settings.seed,
            chunk_index=chunk_index,
            collect=False,
            fixed_parameters=settings.fixed_parameters,
            joint_draws=settings.joint_draws,
            tally=tally,
            draw_memo=draw_memo,
        )
        outcomes = model.run()
    # Left to Python's rare full collections, a worker would hold five or six dead chunks
    # at once (800 MiB per worker in a 1M run): the model drops its arrays now.
    model.release()
    return outcomes


_STUDY_DRAWS: DrawMemo | None = None
"""This process's memo of parameter draws for the chunks of studies (made when first used).

A worker's goes when the worker does; a process that runs a study's chunks itself (one
worker) keeps the last chunk's draws until its next study chunk replaces them.
"""


def summarise_chunk(
    scenario: Scenario, settings: RunSettings, chunk_index: int, size: int
) -> Summary:
    """:func:`simulate_chunk` reduced to its :class:`Summary`, for work that only summarises.

    The reduction runs in the worker: the summary (kilobytes) travels back instead of the
    outcomes and draws (13 MB a chunk of 10,000), and the workers share the summarising
    instead of queueing it in the process that collects them (3 s of a 64-point sweep).
    The studies that summarise (sweeps, sensitivity analyses) report survival, not
    intensity, so the chunk keeps no intensity tally: a tenth of its instructions. Their
    points are the same chunks under scenarios that share most of their parameters, so
    the worker keeps its last chunk's draws for the next
    (:class:`~sim.model.parameters.DrawMemo`).
    """
    global _STUDY_DRAWS
    if _STUDY_DRAWS is None:
        from sim.model.parameters import DrawMemo

        _STUDY_DRAWS = DrawMemo()
    outcomes = simulate_chunk(
        scenario, settings, chunk_index, size, tally=False, draw_memo=_STUDY_DRAWS
    )
    return Summary.from_outcomes(outcomes)
