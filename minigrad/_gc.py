"""Pacing Python's cyclic garbage collector while a large autograd graph is alive.

Why: a recorded graph is Python objects (each op leaves a Node, its edge tuple, its version
tuples and the saved tensors' version counters: ~4 objects the collector tracks), and it lives
until backward or until its output is dropped. CPython's full collections walk every tracked
object, so while a graph of 100,000 ops is being recorded each one walks ~450,000 objects that
can never be garbage: the graph is acyclic by construction (nodes point only to their inputs)
and is freed by reference counting. Measured, that made the forward of a 100,000-op chain cost
twice as much per op as a 1,000-op one (benchmarks/RESULTS.md). PyTorch does not have the
problem because its graph is C++ objects that the collector never sees; minigrad stays pure
Python (no compiled extension can untrack the nodes), so it adjusts *when* full collections run.

What: the engine calls `sample(node)` for every SAMPLE-th node it records, which keeps a weak
reference to it; the number of sampled nodes still alive, times SAMPLE, estimates how many
recorded nodes are alive in the process (any thread, any graph). While that is at least
NODES_PER_STEP, the collector's third threshold (how many middle-generation collections come
before a full one) is the user's value times 1 + live nodes // NODES_PER_STEP: full collections
are spaced out in proportion to the live graph, so what they cost per allocation stays about
what it is without the graph. When the graph is freed (its sampled nodes die) the user's
threshold is put back.

What it never does: disable the collector, hide objects from it (`gc.freeze`), or touch the
young and middle generations (their thresholds, or cycles created and dropped there, which are
collected as before). A full collection still runs, only less often, so cyclic garbage that
reached the oldest generation is still found while a graph is alive. If the user changes the
threshold while it is paced (`gc.set_threshold`), theirs becomes the base and is what comes
back. `MINIGRAD_GC_PACING=0` in the environment, or `set_enabled(False)`, turns pacing off
(and restores the threshold at once).

Thread safety: recording threads only append to / discard from a set (atomic under the GIL);
the threshold update holds a lock, and reads the collector's current thresholds each time.
"""

from __future__ import annotations

import gc
import os
import threading
import weakref

SAMPLE = 256  # one recorded node in SAMPLE is remembered
NODES_PER_STEP = 10_000  # live nodes per extra multiple of the user's full-collection threshold

_enabled = os.environ.get("MINIGRAD_GC_PACING", "1") != "0"
_samples: set = set()  # weak references to sampled nodes that are still alive
_lock = threading.RLock()  # re-entered only by a weak-reference callback run inside _update
_updating = False
_user_threshold: int | None = None  # the third threshold as the user had it, while paced
_paced_threshold: int | None = None  # what pacing set it to (to notice the user's changes)


def sample(node) -> None:
    """Remember `node` (one in SAMPLE of those recorded) until it is freed."""
    if _enabled:
        _samples.add(weakref.ref(node, _sample_freed))
        if len(_samples) * SAMPLE >= NODES_PER_STEP or _paced_threshold is not None:
            _update()


def _sample_freed(reference) -> None:
    if _samples is None:  # interpreter shutdown: this module's globals are already cleared
        return
    _samples.discard(reference)
    if _paced_threshold is not None:
        _update()


def live_nodes() -> int:
    """The estimated number of recorded nodes alive in the process (a multiple of SAMPLE)."""
    return len(_samples) * SAMPLE


def _update() -> None:
    """Set the full-collection threshold for the current graph size (or put the user's back)."""
    global _updating
    with _lock:
        if _updating:  # a sampled node freed while this thread updates: that update suffices
            return
        _updating = True
        try:
            _set_threshold()
        finally:
            _updating = False


def _set_threshold() -> None:
    """Pace the third threshold to live_nodes(); called holding _lock."""
    global _user_threshold, _paced_threshold
    first, second, third = gc.get_threshold()
    if _paced_threshold is None or third != _paced_threshold:
        _user_threshold = third  # not paced yet, or the user set a new one meanwhile
    steps = live_nodes() // NODES_PER_STEP if _enabled else 0
    if steps == 0 or _user_threshold == 0:
        if _paced_threshold is not None:
            gc.set_threshold(first, second, _user_threshold)
            _user_threshold = _paced_threshold = None
        return
    wanted = _user_threshold * (1 + steps)
    if wanted != third:
        gc.set_threshold(first, second, wanted)
    _paced_threshold = wanted


def set_enabled(enabled: bool) -> None:
    """Turn pacing on or off for the process (off also restores the user's threshold now)."""
    global _enabled
    _enabled = bool(enabled)
    _update()
