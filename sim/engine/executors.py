"""Where chunks run: in this process, in a local process pool, or on a Dask cluster.

An executor takes chunk tasks and yields each chunk's outcomes as it finishes, in any
order; the engine puts them in place by chunk index. A chunk's numbers depend only on
the scenario, the seed and its index, so every executor gives the same results.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import forkserver, resource_tracker
from typing import TYPE_CHECKING, Any

from sim.errors import UserError

if TYPE_CHECKING:
    from sim.engine.options import RunOptions
    from sim.model.outcomes import Outcomes
    from sim.results.settings import RunSettings
    from sim.scenario import Scenario

    ChunkFunction = Callable[[Scenario, RunSettings, int, int], Outcomes]


@dataclass(frozen=True)
class ChunkTask:
    """One chunk to simulate: which job it belongs to, and what fixes its numbers."""

    job: Hashable
    scenario: Scenario
    settings: RunSettings
    index: int
    size: int


# What every local worker imports once, in the server it is forked from.
PRELOAD = ["sim.engine.preload"]
DASK_MISSING = (
    "the dask executor needs Dask: install the 'dask' extra, "
    "pip install 'alliance-sim[dask]' (or: pip install 'dask[distributed]')"
)


class InProcess:
    """Runs chunks one after another in this process."""

    name = "in-process"

    def __init__(self) -> None:
        self.workers = 1

    def map_unordered(
        self, function: ChunkFunction, tasks: list[ChunkTask]
    ) -> Iterator[tuple[ChunkTask, Outcomes]]:
        """Yield ``(task, outcomes)`` as chunks finish."""
        for task in tasks:
            yield task, function(task.scenario, task.settings, task.index, task.size)

    def close(self) -> None:
        """Nothing to release."""


def _watch_parent(parent: int) -> None:
    """Exit when ``parent`` (the process that started the pool) is gone.

    Workers are children of the fork server, not of the run's process: if the run is
    killed (``kill -9``), nothing else tells them to stop, and they would live on.
    """
    try:
        handle = os.pidfd_open(parent)
    except (AttributeError, OSError):
        handle = None
    while True:
        if handle is not None:
            select.select([handle], [], [])  # readable once the process has exited
            os._exit(1)
        time.sleep(1.0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _start_worker(parent: int) -> None:
    """Set up a pool worker: leave Ctrl-C to the parent, die with it, spare the GC work."""
    # What the worker inherits from the fork server lives as long as the worker: left out
    # of garbage collection, the collections Python runs as chunks allocate take
    # milliseconds, not 0.1 s.
    gc.freeze()
    # Ctrl-C goes to the whole process group; the parent handles it and stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block until it ends (then raise it as usual).

    For work an interrupt must not cut in two. A worker is started inside ``submit``:
    interrupted between asking the fork server for it and recording it, the pool would
    not know the worker, would not wait for it as it shuts down, and the worker, starting
    after the run had gone, would print a traceback (the pool's semaphores no longer
    exist). And the command line's imports: an interrupt raised inside one of importlib's
    weakref callbacks is reported as ignored and lost. Only the main thread handles
    signals; the block is a no-op elsewhere.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)


_ctrl_c_seen = 0  # Ctrl-Cs this process has taken while it counts them


def _counted_ctrl_c(signum: int, frame: object) -> None:
    global _ctrl_c_seen
    _ctrl_c_seen += 1
    raise KeyboardInterrupt


@contextlib.contextmanager
def ctrl_c_counted() -> Iterator[None]:
    """Within the block, count each Ctrl-C as well as raising it, so none is lost unseen.

    Python runs a signal's handler wherever the main thread is, and a KeyboardInterrupt
    raised inside a weakref callback or a ``__del__`` (Mesa's agent sets hold their agents
    weakly, so a chunk's model sets many off as it is freed) is printed as ignored and
    lost: a run would carry on and finish with status 0. A run compares
    :func:`ctrl_c_count` between chunks and before it finishes, and stops as if the
    interrupt had reached it; the traceback Python would print for the lost one is not
    printed. A Ctrl-C this process ignores (as a background job inherits it) stays
    ignored; a no-op outside the main thread.
    """
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, _counted_ctrl_c)
    report = sys.unraisablehook

    def quiet_about_ctrl_c(unraisable: Any) -> None:
        # A lost Ctrl-C is counted, and stops the run: no traceback for it.
        if not issubclass(unraisable.exc_type, KeyboardInterrupt):
            report(unraisable)

    sys.unraisablehook = quiet_about_ctrl_c
    try:
        yield
    finally:
        sys.unraisablehook = report
        signal.signal(signal.SIGINT, signal.default_int_handler)


def ctrl_c_count() -> int:
    """How many Ctrl-Cs this process has taken inside :func:`ctrl_c_counted` blocks."""
    return _ctrl_c_seen


_started_by: int | None = None  # the process whose warm_up started the servers


def warm_up() -> None:
    """Start the server that forks local workers before they are needed.

    It then loads the model's libraries while this process loads its own, which saves a
    second or two on every run with a local pool. The server (and the resource tracker)
    are started with Ctrl-C ignored, a disposition a new program inherits and Python
    keeps, so that an interrupt while they import their modules stops only the run, which
    handles it, and never a server half-way (with a traceback). Meanwhile this thread
    blocks Ctrl-C, so one that arrives is held pending, not ignored, and raised here once
    the servers are up. (A Ctrl-C that another thread of this process takes in those few
    milliseconds is ignored; the command line starts the servers before any other thread.)
    Once started, later calls only check that the server still runs.
    """
    global _started_by
    _forkserver()
    main = threading.current_thread() is threading.main_thread()
    if _started_by == os.getpid() or not main:  # only the main thread may set handlers
        forkserver.ensure_running()
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # The resource tracker starts first, and unblocks Ctrl-C in this thread when it is
        # up (multiprocessing's own guard for it): block it again before the fork server
        # starts, or a Ctrl-C then would meet the ignoring disposition and be lost.
        resource_tracker.ensure_running()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        forkserver.ensure_running()
        _started_by = os.getpid()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a pending Ctrl-C is raised now


_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
_MMAP_THRESHOLD = 4 * 2**20


def return_large_frees_at_once() -> None:
    """Have glibc give large freed buffers straight back to the system, in this process.

    glibc serves an allocation above a threshold (128 KiB at first) with a memory map of
    its own, but each time such a buffer is freed it raises the threshold to that
    buffer's size (up to 32 MiB); buffers that size then come from the heap and stay with
    the process once freed. A run's own process takes in every chunk's outcomes and draws
    (13 MB each) and writes them out, and so kept some 50 MiB it no longer used. Here the
    threshold is fixed at 4 MiB: those buffers are mapped and given back, smaller ones
    come from the heap as before. Measured on 300,000 replications: the process peaked at
    235-260 MiB instead of 290-300 MiB, with the same CPU time (a threshold of 128 KiB
    saved as much memory but cost it 15% more CPU). Workers keep glibc's default. Dask's
    nanny sets the related ``MALLOC_TRIM_THRESHOLD_`` in its workers for the same reason.
    Does nothing where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc
        pass


def _forkserver() -> multiprocessing.context.BaseContext:
    """The forkserver context, its server preloading what every worker imports."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class _SidePool(ProcessPoolExecutor):
    """A pool whose ``submit``, which may start its process, a Ctrl-C cannot cut in two."""

    def submit(self, function, /, *args, **kwargs):
        with ctrl_c_deferred():
            return super().submit(function, *args, **kwargs)


def side_process() -> ProcessPoolExecutor | None:
    """A pool of one local process for work beside this one's (a run's figures), or None.

    The process is forked from the server of local workers that this process started
    (:func:`warm_up`), and set up as they are (Ctrl-C left to this process; it exits
    with it). It starts with numpy, pandas and the package's statistics loaded: ready
    to draw 0.75 s after it is asked for, where a new interpreter took 1.9 s (measured
    on this project's 2-core machine). Where no such server runs (a run on Dask or in
    this process), None: the work stays in this process.
    """
    if _started_by != os.getpid():
        return None
    return _SidePool(
        1, mp_context=_forkserver(), initializer=_start_worker, initargs=(os.getpid(),)
    )


class LocalPool:
    """Runs chunks in a pool of local worker processes."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        warm_up()
        self._pool = ProcessPoolExecutor(
            workers, mp_context=_forkserver(), initializer=_start_worker, initargs=(os.getpid(),)
        )

    def map_unordered(
        self, function: ChunkFunction, tasks: list[ChunkTask]
    ) -> Iterator[tuple[ChunkTask, Outcomes]]:
        """Yield ``(task, outcomes)`` as chunks finish, keeping a few in flight."""
        waiting = list(reversed(tasks))
        running: dict[Future[Outcomes], ChunkTask] = {}
        while waiting or running:
            while waiting and len(running) < 2 * self.workers:
                task = waiting.pop()
                with ctrl_c_deferred():  # submit may start a worker: see ctrl_c_deferred
                    future = self._pool.submit(
                        function, task.scenario, task.settings, task.index, task.size
                    )
                running[future] = task
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield running.pop(future), future.result()

    def close(self) -> None:
        """Stop the workers; chunks not yet started are cancelled."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _shipped(value: Any) -> Any:
    """The value itself: a Dask task that holds it where the chunks can fetch it."""
    return value


class DaskCluster:
    """Runs chunks on a Dask cluster: an existing scheduler, or a new local cluster."""

    name = "dask"

    def __init__(self, scheduler: str | None, workers: int) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UserError(DASK_MISSING) from None
        self._cluster: Any = None
        if scheduler:
            try:
                self._client = Client(scheduler, timeout="20s")
            except ValueError as error:
                raise UserError(
                    f"not a Dask scheduler address: {scheduler!r} ({error}); "
                    "expected, for example, tcp://10.0.0.5:8786"
                ) from None
            except (OSError, TimeoutError) as error:
                raise UserError(
                    f"cannot reach the Dask scheduler at {scheduler}: {error}"
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            try:
                self._client = Client(self._cluster)
            except BaseException:
                self._cluster.close()  # not to leave its worker processes running
                raise
        self.workers = len(self._client.scheduler_info().get("workers", {})) or workers

    def map_unordered(
        self, function: ChunkFunction, tasks: list[ChunkTask]
    ) -> Iterator[tuple[ChunkTask, Outcomes]]:
        """Yield ``(task, outcomes)`` as chunks finish, keeping a few in flight."""
        from dask.distributed import as_completed

        shared: dict[Hashable, Any] = {}
        waiting = list(reversed(tasks))
        submitted: dict[str, ChunkTask] = {}
        queue = as_completed()

        def submit() -> None:
            task = waiting.pop()
            if task.job not in shared:
                # Ship each scenario to the workers once, not with every chunk, as a task's
                # result: the cluster recomputes it if the worker holding it dies, where
                # scattered data is lost and the chunks that need it are cancelled
                # (dask/distributed#3149).
                shared[task.job] = self._client.submit(_shipped, task.scenario, pure=False)
            future = self._client.submit(
                function, shared[task.job], task.settings, task.index, task.size, pure=False
            )
            submitted[future.key] = task
            queue.add(future)

        while waiting and queue.count() < 2 * self.workers:
            submit()
        for future in queue:
            yield submitted.pop(future.key), future.result()
            future.release()
            if waiting:
                submit()

    def close(self) -> None:
        """Disconnect, and stop the cluster if this executor started it (once)."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


Executor = InProcess | LocalPool | DaskCluster


def make_executor(options: RunOptions, chunks: int) -> Executor:
    """The executor the options ask for, for a run of ``chunks`` chunks.

    A scheduler address implies Dask; a local run with one worker stays in this process,
    and so does a run of one chunk, unless this process has started the fork server
    (:func:`warm_up`) and not loaded the model: a worker forked from the server has the
    model's libraries loaded (while this process loaded its own), where this process would
    spend a second or two loading them first.
    """
    workers = options.worker_count()
    if options.scheduler or options.executor == "dask":
        return DaskCluster(options.scheduler, workers)
    model_loaded = "sim.model.model" in sys.modules
    if workers <= 1 or chunks == 0:  # a resume with every chunk saved runs none
        return InProcess()
    if chunks == 1 and (model_loaded or _started_by != os.getpid()):
        return InProcess()
    return LocalPool(min(workers, chunks))
