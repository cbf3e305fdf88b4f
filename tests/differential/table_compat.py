"""Differential entries: random sampling with generator= (compared by dtype and shape: the streams
differ from torch's by design), and Tensor.take_along_dim (compared by value)."""

from hypothesis import strategies as st
from tests.differential.opinfo import FLOATS, INTS, Entry, Sample, register, shapes, tensors


def _seeded(lib):
    return lib.Generator().manual_seed(0)


def _float_tensor(draw, dtype):
    return Sample(draw(tensors(dtype, grad=False)))


_INPLACE = {
    "normal_": lambda lib, x: x.normal_(1.0, 2.0, generator=_seeded(lib)),
    "uniform_": lambda lib, x: x.uniform_(-1.0, 1.0, generator=_seeded(lib)),
    "random_": lambda lib, x: x.random_(0, 5, generator=_seeded(lib)),
    "bernoulli_": lambda lib, x: x.bernoulli_(0.3, generator=_seeded(lib)),
    "exponential_": lambda lib, x: x.exponential_(2.0, generator=_seeded(lib)),
}
for _name, _op in _INPLACE.items():
    register(
        Entry(
            f"Tensor.{_name}",
            (f"Tensor.{_name}",),
            lambda lib, x, _op=_op: _op(lib, x.detach().clone()),
            _float_tensor,
            FLOATS,
            grad=False,
            compare="meta",
        )
    )


def _probs(draw, dtype):
    return Sample(draw(tensors(dtype, draw(shapes(0, 3)), grad=False, edges=False, low=0, high=1)))


def _normal_sample(draw, dtype):
    shape = draw(shapes(0, 3))
    mean = draw(tensors(dtype, shape, edges=False))
    std = draw(tensors(dtype, shape, edges=False, low=0.25, high=2))
    return Sample(mean, std)


register(
    Entry(
        "bernoulli",
        ("minigrad.bernoulli",),
        lambda lib, p: lib.bernoulli(p, generator=_seeded(lib)),
        _probs,
        FLOATS,
        grad=False,
        compare="meta",
    ),
    Entry(
        "Tensor.bernoulli",
        ("Tensor.bernoulli",),
        lambda lib, p: p.bernoulli(generator=_seeded(lib)),
        _probs,
        FLOATS,
        grad=False,
        compare="meta",
    ),
    Entry(
        "normal",
        ("minigrad.normal",),
        lambda lib, mean, std: lib.normal(mean, std, generator=_seeded(lib)),
        _normal_sample,
        FLOATS,
        grad=False,
        compare="meta",
    ),
    Entry(
        "normal_floats",
        ("minigrad.normal",),
        lambda lib, size: lib.normal(0.0, 2.0, size, generator=_seeded(lib)),
        lambda draw, dtype: Sample(draw(shapes(0, 3))),
        ("float32",),
        grad=False,
        compare="meta",
    ),
    Entry(
        "Tensor.multinomial",
        ("Tensor.multinomial",),
        lambda lib, p, n: p.multinomial(n, True, generator=_seeded(lib)),
        lambda draw, dtype: Sample(
            draw(
                tensors(dtype, draw(shapes(1, 2, 1, 4)), grad=False, edges=False, low=0.25, high=3)
            ),  # fmt: skip
            draw(st.integers(1, 4)),
        ),
        FLOATS,
        grad=False,
        compare="meta",
    ),
)


def _take_along_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 3, 1, 4))))
    shape = x.array.shape
    d = draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(
        draw(st.sampled_from([1, n])) if k != d % len(shape) else draw(st.integers(1, 4))
        for k, n in enumerate(shape)
    )
    index = draw(tensors("int64", ishape, grad=False, edges=False, low=0, high=shape[d] - 1))
    return Sample(x, index, d)


register(
    Entry(
        "Tensor.take_along_dim_broadcast",
        ("Tensor.take_along_dim",),
        lambda lib, x, index, dim: x.take_along_dim(index, dim),
        _take_along_sample,
        FLOATS + INTS,
    )
)
