"""Differential entries: indexing (`x[idx]` and `x[idx] = v`) with its own index strategy:
ints, slices with steps, None, Ellipsis, bool masks, int tensors and lists, in every position
and combination, with gradients (for set: with respect to the written tensor and the values)."""

import numpy as np
import torch
from hypothesis import strategies as st

from tests.differential.opinfo import ALL, FLOATS, Entry, Sample, T, register, shapes, tensors


@st.composite
def index_for(draw, shape: tuple):
    """An index tuple for a tensor of `shape` (sometimes out of range: torch raises)."""
    items = []
    dim = 0
    used_ellipsis = False
    for _ in range(draw(st.integers(0, len(shape) + 2))):
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis", "mask",
                                     "tensor", "list"]))  # fmt: skip
        size = shape[dim] if dim < len(shape) else 0
        if kind == "ellipsis":
            if used_ellipsis:
                continue
            used_ellipsis = True
            items.append(Ellipsis)
            dim = max(dim, len(shape) - sum(1 for _ in items) + 1)
            continue
        if kind == "none":
            items.append(None)
            continue
        if dim >= len(shape):
            break
        if kind == "int":
            bad = draw(st.integers(0, 14)) == 0
            items.append(draw(st.integers(-size - bad, size - 1 + bad)) if size or bad else 0)
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            items.append(slice(start, stop, step))
        elif kind == "mask":
            k = draw(st.integers(1, len(shape) - dim))
            mask_shape = shape[dim : dim + k]
            mask = np.array(
                draw(
                    st.lists(
                        st.booleans(),
                        min_size=int(np.prod(mask_shape)),
                        max_size=int(np.prod(mask_shape)),
                    )
                ),
                bool,
            )
            items.append(T(mask.reshape(mask_shape), grad=False))
            dim += k
            continue
        else:
            n = draw(st.integers(0, 3))
            hi = size - 1
            values = [draw(st.integers(-size, hi)) for _ in range(n)] if size else []
            if kind == "list":
                items.append(values if values or draw(st.booleans()) else [0][:0])
            else:
                items.append(
                    T(
                        np.array(values, np.int64).reshape(
                            draw(st.sampled_from([(n,), (n, 1) if n else (0,)]))
                        ),
                        grad=False,
                    )
                )
        dim += 1
    if len(items) == 1 and draw(st.booleans()):
        return items[0]
    return tuple(items)


def _torch_index(idx):
    if isinstance(idx, tuple):
        return tuple(_torch_index(i) for i in idx)
    if isinstance(idx, T):
        return torch.from_numpy(idx.array)
    return idx


def _get_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(0, 4, 0, 4))))
    return Sample(x, draw(index_for(x.array.shape)))


def _set_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(0, 4, 0, 4))))
    idx = draw(index_for(x.array.shape))
    try:
        target = tuple(torch.from_numpy(x.array.copy())[_torch_index(idx)].shape)
    except Exception:  # noqa: BLE001 - torch refuses the index: both must raise
        target = ()
    kind = draw(st.integers(0, 2))
    if kind == 0:
        value = draw(st.sampled_from([0, 1, -2.5] if dtype in FLOATS else [0, 1]))
    else:
        # the target shape, or a broadcastable suffix of it
        shape = target[draw(st.integers(0, len(target))) :] if kind == 2 else target
        shape = tuple(1 if draw(st.integers(0, 3)) == 0 else s for s in shape)
        value = draw(tensors(dtype, shape))
    return Sample(x, idx, value)


def _setitem(lib, x, idx, value):
    y = x.clone() if x.requires_grad else x.clone()
    y[idx] = value
    return y


register(
    Entry(
        "Tensor.__getitem__",
        ("Tensor.__getitem__",),
        lambda lib, x, idx: x[idx],
        _get_sample,
        ALL,
        max_examples=40,
    ),
    Entry(
        "Tensor.__setitem__", ("Tensor.__setitem__",), _setitem, _set_sample, ALL, max_examples=40
    ),
)
