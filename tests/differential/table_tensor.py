"""Differential entries: Tensor conversions, attributes, in-place methods and protocols."""

from hypothesis import strategies as st

from tests.differential.opinfo import (
    ALL,
    FLOATS,
    INTS,
    D,
    Entry,
    Sample,
    binary,
    register,
    scalar,
    shapes,
    tensors,
    unary,
)


def _one(draw, dtype):
    return Sample(draw(tensors(dtype, draw(st.sampled_from([(), (1,), (1, 1)])))))


def _any(draw, dtype):
    return Sample(draw(tensors(dtype)))


def _no_grad_any(draw, dtype):
    return Sample(draw(tensors(dtype, grad=False)))


def method(name, op, sample=_any, dtypes=ALL, **kw):
    # "size.dim": a second entry of Tensor.size
    register(Entry(f"Tensor.{name}", (f"Tensor.{name.split('.')[0]}",), op, sample, dtypes, **kw))


# conversions to Python / NumPy and sizes
method("item", lambda lib, x: x.item(), _one, grad=False)
method("tolist", lambda lib, x: x.tolist(), grad=False)
method(
    "numpy",
    lambda lib, x: x.detach().numpy(),
    grad=False,
    note="torch refuses numpy() on a tensor that requires grad; detach() first, as users must",
)
method("numpy.requires_grad", lambda lib, x: x.numpy(), _any, FLOATS, grad=False)
method("size", lambda lib, x: x.size(), grad=False)
method(
    "size.dim",
    lambda lib, x, d: x.size(d),
    lambda draw, dtype: Sample(draw(tensors(dtype)), draw(st.integers(-4, 4))),
    grad=False,
)
method("shape", lambda lib, x: x.shape, grad=False)
method("dim", lambda lib, x: x.dim(), grad=False)
method("ndim", lambda lib, x: x.ndim, grad=False)
method("numel", lambda lib, x: x.numel(), grad=False)
method("nelement", lambda lib, x: x.nelement(), grad=False)
method("element_size", lambda lib, x: x.element_size(), grad=False)
method("dtype", lambda lib, x: x.dtype, grad=False)
method("device", lambda lib, x: str(x.device), grad=False)
method("is_floating_point", lambda lib, x: x.is_floating_point(), grad=False)
method("is_complex", lambda lib, x: x.is_complex(), grad=False)
method("is_cuda", lambda lib, x: x.is_cuda, grad=False)
method("is_leaf", lambda lib, x: (x.is_leaf, (x * 1).is_leaf), dtypes=FLOATS, grad=True)
method("requires_grad", lambda lib, x: (x.requires_grad, (x * 2).requires_grad), grad=True)
method(
    "grad_fn",
    lambda lib, x: (x.grad_fn is None, (x * 2).grad_fn is None),
    dtypes=FLOATS,
    grad=True,
)
method(
    "name",
    lambda lib, x: x.name,
    dtypes=FLOATS,
    grad=False,
    note="torch's Tensor.name is the (unset) name of a leaf: None",
)
method("__len__", lambda lib, x: len(x), grad=False)
method("__iter__", lambda lib, x: list(iter(x)))
method("__bool__", lambda lib, x: bool(x), grad=False)
method("__float__", lambda lib, x: float(x), _one, grad=False)
method("__int__", lambda lib, x: int(x), _one, grad=False)
method("__index__", lambda lib, x: [10, 20, 30, 40, 50, 60][x], _one, grad=False)
method("cpu", lambda lib, x: x.cpu())


def _cuda_refused(x) -> str:
    # A CPU-only torch build raises AssertionError ("not compiled with CUDA"); minigrad, which
    # can run on CUDA through CuPy, raises RuntimeError as a CUDA build of torch without a GPU
    # does. Both must refuse here (neither has a GPU in this suite).
    try:
        x.cuda()
    except (AssertionError, RuntimeError):
        return "refused"
    return "moved"


method("cuda", lambda lib, x: _cuda_refused(x), _any, FLOATS, grad=False)
method("contiguous", lambda lib, x: x.contiguous())
method("detach", lambda lib, x: x.detach() * 1)
method("detach_", lambda lib, x: (x * 1).detach_(), grad=False)
method("data", lambda lib, x: x.data, grad=False)


def _to_sample(draw, dtype):
    return Sample(draw(tensors(dtype)), D(draw(st.sampled_from(ALL))))


method("to", lambda lib, x, d: x.to(d), _to_sample)
method("to.kwarg", lambda lib, x, d: x.to(dtype=d), _to_sample)
method("type", lambda lib, x, d: x.type(d), _to_sample)
method(
    "astype",
    lambda lib, x, d: x.to(d) if lib.__name__ == "torch" else x.astype(d),
    _to_sample,
    note="minigrad-only NumPy spelling of Tensor.to(dtype)",
)


def _type_as_sample(draw, dtype):
    return Sample(draw(tensors(dtype)), draw(tensors(draw(st.sampled_from(ALL)), grad=False)))


method("type_as", lambda lib, x, y: x.type_as(y), _type_as_sample)
for _name in ["float", "double", "half", "int", "long", "bool"]:
    method(_name, lambda lib, x, _n=_name: getattr(x, _n)(), dtypes=FLOATS + INTS + ("bool",))


# in place: on a clone, so the gradient flows through the in-place op to the input
for _name, _sample in [("add_", binary), ("sub_", binary), ("mul_", binary), ("div_", binary),
                       ("pow_", binary)]:  # fmt: skip
    method(_name, lambda lib, x, y, _n=_name: getattr(x.clone(), _n)(y), _sample, FLOATS + INTS)
for _name in ["clamp_", "clip_"]:
    method(
        _name,
        lambda lib, x, lo, hi, _n=_name: getattr(x.clone(), _n)(lo, hi),
        lambda draw, dtype: Sample(
            draw(tensors(dtype)), draw(scalar(dtype, edges=False)), draw(scalar(dtype, edges=False))
        ),
        FLOATS + INTS,
    )
method(
    "fill_",
    lambda lib, x, v: x.clone().fill_(v),
    lambda draw, dtype: Sample(draw(tensors(dtype)), draw(scalar(dtype))),
)
method("zero_", lambda lib, x: x.clone().zero_())


def _copy_sample(draw, dtype):
    from tests.differential.opinfo import broadcast_shapes

    s1, s2 = draw(broadcast_shapes(2))
    return Sample(draw(tensors(dtype, s1)), draw(tensors(draw(st.sampled_from(ALL)), s2)))


method("copy_", lambda lib, x, y: x.clone().copy_(y), _copy_sample)
for _name, _fn in [("__iadd__", lambda a, b: a.__iadd__(b)), ("__isub__", lambda a, b: a.__isub__(b)),
                   ("__imul__", lambda a, b: a.__imul__(b)),
                   ("__itruediv__", lambda a, b: a.__itruediv__(b))]:  # fmt: skip
    method(_name, lambda lib, x, y, _f=_fn: _f(x.clone(), y), binary, FLOATS + INTS)


# autograd surface
def _backward(lib, x, w):
    (x * w).sum().backward()
    return x.grad


method("backward", _backward, lambda draw, dtype: _pair_same(draw, dtype), FLOATS, grad=True)
method("grad", _backward, lambda draw, dtype: _pair_same(draw, dtype), FLOATS, grad=True)


def _pair_same(draw, dtype):
    shape = draw(shapes())
    return Sample(draw(tensors(dtype, shape)), draw(tensors(dtype, shape, grad=False)))


def _requires_grad_(lib, x):
    y = x.detach().requires_grad_()
    (y * y).sum().backward()
    return y.grad, y.requires_grad


method("requires_grad_", _requires_grad_, dtypes=FLOATS, grad=False)
method("requires_grad_.int", lambda lib, x: x.requires_grad_(), _no_grad_any, INTS, grad=False)


def _retain_grad(lib, x):
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    return y.grad, y.retains_grad


method("retain_grad", _retain_grad, dtypes=FLOATS, grad=True)
method("retains_grad", _retain_grad, dtypes=FLOATS, grad=True)
_ = unary
