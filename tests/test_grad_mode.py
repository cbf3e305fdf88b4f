"""Grad mode, inference mode, threads and hooks in minigrad/autograd.py, beside PyTorch."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


# --- threads -------------------------------------------------------------------------------------


def test_threads_running_backward_into_one_shared_weight_add_up_exactly():
    rng = np.random.default_rng(0)
    # small integers in float64: every order of summation gives the same, exact result; large
    # enough that NumPy releases the GIL while adding, so unguarded updates would be lost
    inputs = [rng.integers(-3, 4, (2, 400_000)).astype(np.float64) for _ in range(8)]
    expected = sum(x.sum(0) for x in inputs)
    for _ in range(10):
        weight = mg.zeros(400_000, dtype=mg.float64, requires_grad=True)
        start = threading.Barrier(len(inputs))

        def work(x):
            start.wait()
            for _ in range(4):
                (mg.tensor(x) * weight).sum().backward()

        threads = [threading.Thread(target=work, args=(x,)) for x in inputs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        np.testing.assert_array_equal(weight.grad.numpy(), 4 * expected)


def test_one_no_grad_decorator_used_by_two_threads_keeps_each_threads_mode():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    after = {}

    @mg.no_grad()
    def inside(wait_for, then_set):
        then_set.set()
        wait_for.wait(5)

    def first():  # grad enabled before: enters first, leaves first
        inside(second_in, first_in)
        after["first"] = mg.is_grad_enabled()
        first_out.set()

    def second():  # grad disabled before: enters second, leaves last
        mg.set_grad_enabled(False)
        first_in.wait(5)
        inside(first_out, second_in)
        after["second"] = mg.is_grad_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert after == {"first": True, "second": False}


def test_grad_mode_classes_are_not_subclasses_of_each_other():
    assert not issubclass(mg.enable_grad, mg.no_grad)
    assert issubclass(torch.enable_grad, torch.no_grad) is False


@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "inference_mode"])
def test_grad_mode_decorators_work_with_and_without_parentheses(name):
    for framework in (mg, torch):
        switch = getattr(framework, name)

        @switch
        def bare():
            return framework.is_grad_enabled()

        @switch()
        def called():
            return framework.is_grad_enabled()

        with framework.no_grad():
            assert bare() == called() == (name == "enable_grad")


# --- inference mode ------------------------------------------------------------------------------


def _inference_state(framework):
    return (framework.is_grad_enabled(), framework.is_inference_mode_enabled())


def test_inference_mode_matches_torch():
    for framework in (mg, torch):
        states = [_inference_state(framework)]
        with framework.inference_mode():
            states.append(_inference_state(framework))
            made = framework.ones(2)
            with framework.inference_mode(False):
                states.append(_inference_state(framework))
                normal = framework.ones(2)
            with framework.inference_mode(mode=True):
                states.append(_inference_state(framework))
        states.append(_inference_state(framework))
        flags = (made.is_inference(), normal.is_inference(), framework.ones(1).is_inference())
        if framework is mg:
            ours = (states, flags)
        else:
            assert ours == (states, flags)
    assert ours[1] == (True, False, False)


def test_inference_mode_results_are_inference_tensors_and_never_join_a_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.inference_mode():
        y = x * 2
    assert y.is_inference() and not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        x * y
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.inference_mode():
        ty = tx * 2
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        tx * ty


# --- post-accumulate-grad hooks ------------------------------------------------------------------


def test_post_accumulate_grad_hook_runs_after_the_leaf_grad_is_updated():
    seen = {}
    for framework in (mg, torch):
        x = framework.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        handle = x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
        (x * 3).sum().backward()
        (x * x).sum().backward()
        framework.autograd.grad((x * 5).sum(), x)  # no accumulation: no call
        handle.remove()
        (x * 3).sum().backward()
        seen[framework.__name__] = (calls, x.grad.tolist())
    assert seen["minigrad"] == seen["torch"] == ([[3.0, 3.0], [5.0, 7.0]], [8.0, 10.0])


def test_post_accumulate_grad_hook_refuses_non_leaves_and_constants_as_torch():
    for framework in (mg, torch):
        x = framework.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            framework.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)


# --- a second backward, as torch ------------------------------------------------------------------


def test_a_second_backward_through_sum_works_and_through_mul_fails_as_torch():
    for framework in (mg, torch):
        x = framework.tensor([1.0, 2.0], requires_grad=True)
        total = x.sum()
        total.backward()
        total.backward()
        assert x.grad.tolist() == [2.0, 2.0]
        doubled = (x * 2).sum()
        doubled.backward()
        with pytest.raises(RuntimeError, match="second time"):
            doubled.backward()
