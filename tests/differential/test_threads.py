"""Thread safety of backward: several threads, each running backward of its own graph into one
shared weight, must leave the same `.grad` as running the graphs one after the other (as in
PyTorch). Also: one `no_grad()` decorator object used by two threads at once keeps each
thread's own grad mode. (Issue 10 item 11; fails until the engine's accumulation is safe.)"""

import sys
import threading

import numpy as np

import minigrad as mg

THREADS = 8
TRIALS = 10
STEPS = 10


def _graph(w, x):
    h = (x @ w).tanh()
    for _ in range(3):
        h = h * 1.0001 + h.sin() * 0.5
    return (h * h).sum()


def _inputs():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((256, 256))
    xs = [rng.standard_normal((4, 256)) for _ in range(THREADS)]
    return w, xs


def _serial(w0, xs):
    w = mg.tensor(w0, requires_grad=True)
    for _ in range(STEPS):
        for x in xs:
            _graph(w, mg.tensor(x)).backward()
    return w.grad.numpy()


def test_backward_from_threads_into_a_shared_weight_matches_serial():
    w0, xs = _inputs()
    expected = _serial(w0, xs)
    wrong = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: a racy read-modify-write shows up
    try:
        _trials(w0, xs, expected, wrong)
    finally:
        sys.setswitchinterval(interval)
    assert not wrong, (
        f"{len(wrong)} of {TRIALS} threaded runs lost gradient (trial, max rel err): {wrong}"
    )


def _trials(w0, xs, expected, wrong):
    for trial in range(TRIALS):
        w = mg.tensor(w0, requires_grad=True)
        barrier = threading.Barrier(THREADS)
        errors = []

        def worker(x):
            try:
                barrier.wait()
                for _ in range(STEPS):
                    _graph(w, mg.tensor(x)).backward()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(x,)) for x in xs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        got = w.grad.numpy()
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-9):
            wrong.append(
                (trial, float(np.max(np.abs(got - expected) / (np.abs(expected) + 1e-12))))
            )


def test_one_no_grad_decorator_object_used_by_two_threads():
    guard = mg.no_grad()
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    @guard
    def slow():
        inside.set()
        release.wait(5)
        return mg.is_grad_enabled()

    @guard
    def fast():
        return mg.is_grad_enabled()

    def other_thread():
        mg.set_grad_enabled(False)  # this thread runs with grad off before, inside and after
        seen["slow"] = slow()
        seen["slow after"] = mg.is_grad_enabled()

    t = threading.Thread(target=other_thread)
    t.start()
    inside.wait(5)
    seen["fast"] = fast()
    after_fast = mg.is_grad_enabled()  # this thread left its no_grad: grad mode back on
    release.set()
    t.join()
    assert seen == {"slow": False, "fast": False, "slow after": False}
    assert after_fast is True
    assert mg.is_grad_enabled() is True
