"""minigrad/_gc.py: while a large graph is alive, full collections are spaced out (the third
threshold scaled with the live graph); the user's threshold comes back when the graph is freed,
follows the user's own changes, and the collector is never disabled."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import _gc


@pytest.fixture
def user_threshold():
    """The test's own thresholds (700, 10, 10), and the process's back afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def _chain(ops: int):
    x = mg.tensor(np.ones(4, np.float32), requires_grad=True)
    h = x
    for _ in range(ops):
        h = h * 1.0001
    return x, h


def test_large_graph_spaces_out_full_collections_and_restores(user_threshold):
    assert _gc.live_nodes() < _gc.NODES_PER_STEP
    x, h = _chain(3 * _gc.NODES_PER_STEP)
    assert _gc.live_nodes() >= 2 * _gc.NODES_PER_STEP
    first, second, third = gc.get_threshold()
    assert (first, second) == (700, 10)  # the young and middle generations are untouched
    assert third == 10 * (1 + _gc.live_nodes() // _gc.NODES_PER_STEP)
    assert gc.isenabled()
    h.sum().backward()  # backward frees the saved arrays, not the nodes: h still holds them
    assert gc.get_threshold()[2] > 10
    del h
    assert gc.get_threshold() == (700, 10, 10)
    assert x.grad is not None


def test_forward_only_graph_restores_when_dropped(user_threshold):
    _, h = _chain(2 * _gc.NODES_PER_STEP)
    assert gc.get_threshold()[2] > 10
    del h
    assert gc.get_threshold() == (700, 10, 10)


def test_user_change_while_paced_becomes_the_base(user_threshold):
    _, h = _chain(2 * _gc.NODES_PER_STEP)
    gc.set_threshold(700, 10, 5)  # the user's new choice, while paced
    _, more = _chain(_gc.SAMPLE * 2)  # a little more recording: pacing notices the change
    assert gc.get_threshold()[2] == 5 * (1 + _gc.live_nodes() // _gc.NODES_PER_STEP)
    del h, more
    assert gc.get_threshold() == (700, 10, 5)


def test_set_enabled_false_restores_at_once(user_threshold):
    _, h = _chain(2 * _gc.NODES_PER_STEP)
    assert gc.get_threshold()[2] > 10
    try:
        _gc.set_enabled(False)
        assert gc.get_threshold() == (700, 10, 10)
        _, more = _chain(_gc.NODES_PER_STEP)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        _gc.set_enabled(True)
    del h, more
    assert gc.get_threshold() == (700, 10, 10)


def test_cycles_are_still_collected_while_paced(user_threshold):
    _, h = _chain(2 * _gc.NODES_PER_STEP)

    class Cyclic:
        pass

    a = Cyclic()
    a.self = a
    ref = weakref.ref(a)
    del a
    gc.collect()  # an explicit collection is never deferred
    assert ref() is None
    del h


def test_threads_recording_at_once_restore(user_threshold):
    graphs = []

    def record():
        graphs.append(_chain(_gc.NODES_PER_STEP)[1])

    threads = [threading.Thread(target=record) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.get_threshold()[2] > 10
    graphs.clear()
    assert gc.get_threshold() == (700, 10, 10)
