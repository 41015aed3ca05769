"""What the server that forks local workers loads before it forks any.

Imported by that server alone (:data:`sim.engine.executors.PRELOAD`), so that every local
worker starts with the chunk functions, the model and its compiled kernels loaded, shared
copy-on-write with the server, instead of loading them itself.

pandas, which Mesa imports, imports pyarrow whenever pyarrow is installed, and workers
never read or write Parquet (the run's own process writes ``replications.parquet``).
Loaded, pyarrow held 66 MiB of the server's resident memory (58 MiB of it its libraries)
and 10–20 MiB of each worker's. So pyarrow is marked absent while these modules load (a
``None`` entry in ``sys.modules`` makes an import of it fail as if it were not installed,
which pandas takes in its stride) and made importable again afterwards: pandas in a
worker then treats pyarrow as absent, and anything else a worker imports later (a user's
script, which a worker imports again as its main module) may still load it, at its cost.
"""

import sys

_held_back = "pyarrow" not in sys.modules
if _held_back:
    sys.modules["pyarrow"] = None  # type: ignore[assignment]
try:
    # Loaded here to be shared by every worker, not used here.
    import sim.engine.chunks
    import sim.model.model  # noqa: F401
    from sim.model.accelerate import load_kernels

    load_kernels()  # compiled, or loaded from numba's cache, once for every worker
finally:
    if _held_back and "pyarrow" in sys.modules and sys.modules["pyarrow"] is None:
        del sys.modules["pyarrow"]
