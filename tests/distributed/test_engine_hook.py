"""`Tensor.register_post_accumulate_grad_hook`, the engine hook DistributedDataParallel is built
on: called after backward has accumulated into a leaf's `.grad` (PyTorch 2.1 semantics)."""

import pytest
import torch

import minigrad as mg


def _seen_grads(framework, backward_calls):
    w = framework.ones(2, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    for call in backward_calls:
        call(framework, w)
    handle.remove()
    (w * 3).sum().backward()  # removed: not called again
    return seen, w.grad.tolist()


def _backward(framework, w):
    (w * 3).sum().backward()


def _backward_inputs(framework, w):
    framework.autograd.backward((w * 3).sum(), inputs=[w])


def _grad_only(framework, w):
    framework.autograd.grad((w * 3).sum(), w)  # autograd.grad leaves .grad alone: no hook


def test_hook_sees_the_accumulated_grad_like_torch():
    calls = [_backward, _backward, _backward_inputs, _grad_only]
    assert _seen_grads(mg, calls) == _seen_grads(torch, calls)


def test_hook_errors_like_torch():
    for framework in (mg, torch):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            framework.ones(2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError, match="non-leaf"):
            y = framework.ones(2, requires_grad=True) * 2
            y.register_post_accumulate_grad_hook(lambda t: None)
        w = framework.ones(2, requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: 5)
        with pytest.raises(TypeError):
            (w * 3).sum().backward()


def test_parameter_hook_in_a_module():
    layer = mg.nn.Linear(3, 2)
    order = []
    for name, p in layer.named_parameters():
        p.register_post_accumulate_grad_hook(lambda t, name=name: order.append(name))
    layer(mg.ones(4, 3)).sum().backward()
    assert sorted(order) == ["bias", "weight"]
