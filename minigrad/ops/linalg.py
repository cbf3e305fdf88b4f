"""Matrix products: matmul (1-D, 2-D, batched with broadcast batch dims), linear and einsum;
cdist, the p-norm distance between every pair of rows of two batches of matrices.

The rules fold batch dimensions into one GEMM where a weight is shared across the batch
(`x @ W` with x of shape [B, T, k]), instead of producing a [B, k, m] gradient and summing it.
"""

from __future__ import annotations

import math

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.backend import _BACKENDS
from minigrad.ops.elementwise import promote
from minigrad.tensor import Tensor


def _matmul_grad_a(xp, g, b, a_shape):
    """d(a @ b)/da applied to g: g @ b^T, with 1-D operands treated as in NumPy."""
    if len(b.shape) == 1:  # out[..., i] = a[..., i, :] . b
        return xp.expand_dims(g, -1) * b
    if len(a_shape) == 1:  # out[..., j] = a . b[..., :, j]
        return xp.matmul(b, xp.expand_dims(g, -1))[..., 0]
    return xp.matmul(g, xp.swapaxes(b, -1, -2))


def _matmul_grad_b(xp, g, a, b_shape):
    """d(a @ b)/db applied to g: a^T @ g, one GEMM when b is a matrix shared over a batch."""
    if len(a.shape) == 1:
        if len(b_shape) == 1:  # a . b: g is a scalar
            return g * a
        return xp.expand_dims(a, -1) * xp.expand_dims(g, -2)
    if len(b_shape) == 1:
        return xp.matmul(xp.swapaxes(a, -1, -2), xp.expand_dims(g, -1))[..., 0]
    if len(b_shape) == 2 and len(a.shape) > 2:
        return xp.matmul(xp.reshape(a, (-1, a.shape[-1])).T, xp.reshape(g, (-1, g.shape[-1])))
    return xp.matmul(xp.swapaxes(a, -1, -2), g)


def _linear_grad_w(xp, g, x):
    """d(x W^T)/dW applied to g: g^T x over all leading dims, as one [out, in] GEMM."""
    rows = math.prod(x.shape[:-1])  # not -1: NumPy cannot infer it when a dim is 0
    return xp.matmul(xp.reshape(g, (rows, g.shape[-1])).T, xp.reshape(x, (rows, x.shape[-1])))


# fmt: off
MATMUL = defop("matmul", lambda xp, a, b: xp.matmul(a, b),
               a=_matmul_grad_a,                                  # g @ b^T
               b=_matmul_grad_b)                                  # a^T @ g
LINEAR = defop("linear", lambda xp, x, weight: xp.matmul(x, weight.T),
               x=lambda xp, g, weight: xp.matmul(g, weight),      # g W
               weight=_linear_grad_w)                             # g^T x
LINEAR_BIAS = defop("linear", lambda xp, x, weight, bias: _matmul_add(xp, x, weight, bias),
                    x=lambda xp, g, weight: xp.matmul(g, weight),  # g W
                    weight=_linear_grad_w,                         # g^T x
                    bias=lambda g: g)                             # summed over rows by the engine
EINSUM = defop("einsum", lambda xp, *xs, equation: xp.einsum(equation, *xs, optimize=len(xs) > 2),
               xs=lambda xp, g, i, xs, equation:  # einsum(g, the other inputs) -> input i's indices
                   _einsum_grad(xp, g, i, xs, equation))
CDIST = defop("cdist", lambda xp, x1, x2, *, p, use_mm: _cdist(xp, x1, x2, p, use_mm),
              x1=lambda xp, g, x1, x2, out, p:           # sum_r g w, w = sign(d)(|d|/dist)^(p-1)
                  _cdist_grad(xp, g, x1, x2, out, p),
              x2=lambda xp, g, x1, x2, out, p:           # d = x1 - x2: the x1 rule, mirrored
                  _cdist_grad(xp, xp.swapaxes(g, -1, -2), x2, x1, xp.swapaxes(out, -1, -2), p))
# fmt: on


def _cdist(xp, x1, x2, p: float, use_mm: bool):
    """dist[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p."""
    if use_mm:  # p = 2 as |a|^2 + |b|^2 - 2 a.b: one GEMM, no [P, R, M] difference tensor
        squares = (
            xp.sum(x1 * x1, axis=-1)[..., :, None]
            + xp.sum(x2 * x2, axis=-1)[..., None, :]
            - 2 * xp.matmul(x1, xp.swapaxes(x2, -1, -2))
        )
        return xp.sqrt(xp.maximum(squares, 0))
    diff = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if diff.shape[-1] == 0:
        return xp.sum(diff, axis=-1)
    if p == 0:  # PyTorch's min(ceil(|d|), 1): a NaN difference makes the count NaN
        return xp.sum(xp.minimum(xp.ceil(diff), 1), axis=-1)
    if p == 1:
        return xp.sum(diff, axis=-1)
    if p == 2:
        return xp.sqrt(xp.sum(diff * diff, axis=-1))
    if p == math.inf:  # PyTorch's running max(agg, |d|) from 0 skips NaN differences
        return xp.max(xp.where(xp.isnan(diff), 0, diff), axis=-1)
    return xp.sum(diff**p, axis=-1) ** (1 / p)


def _cdist_grad(xp, g, x1, x2, out, p: float):
    """d dist / d x1 applied to g (dist[..., i, j] between x1's row i and x2's row j): each
    pair pulls row i along w = sign(d) (|d| / dist)^(p-1), d = x1_i - x2_j, 0 where dist = 0;
    p = 1: sign(d); p = inf: sign(d) where |d| is the max; p = 0: nothing."""
    finite = bool((xp.abs(x1) < math.inf).all()) and bool((xp.abs(x2) < math.inf).all())
    if p == 2 and finite:
        # w = d / dist: sum_j g_ij (x1_i - x2_j) / dist_ij as GEMMs (an infinite input takes
        # the general path: inf / inf is NaN there, as in PyTorch, where the GEMMs give 0)
        scaled = xp.where(out > 0, g / xp.where(out > 0, out, 1), 0)
        total = xp.sum(scaled, axis=-1, keepdims=True)  # 0 for no x2 rows: no pull, even on inf
        return xp.where(total == 0, 0, x1 * total) - xp.matmul(scaled, x2)
    diff = xp.expand_dims(x1, -2) - xp.expand_dims(x2, -3)  # [..., P, R, M]
    dist = xp.expand_dims(out, -1)
    if p == 0:
        weight = diff * 0
    elif p == 1:
        weight = xp.sign(diff)
    elif p == math.inf:
        weight = xp.where(xp.abs(diff) == dist, xp.sign(diff), 0)
    else:
        ratio = xp.abs(diff) / xp.where(dist > 0, dist, 1)
        ratio = xp.where(diff == 0, 1, ratio)  # keeps 0^(p-1), p < 1, out of every branch
        weight = xp.where((diff == 0) | (dist == 0), 0, xp.sign(diff) * ratio ** (p - 1))
    return xp.sum(xp.expand_dims(g, -1) * weight, axis=-2)


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """The p-norm distance between each row of x1 [..., P, M] and each row of x2 [..., R, M]:
    [..., P, R], batch dims broadcast. p = 2 uses one matrix product (|a|^2 + |b|^2 - 2 a.b)
    when P or R exceeds 25 ('use_mm_for_euclid_dist_if_necessary', PyTorch's rule), always
    ('use_mm_for_euclid_dist') or never ('donot_use_mm_for_euclid_dist')."""
    modes = {
        "use_mm_for_euclid_dist_if_necessary": None,
        "use_mm_for_euclid_dist": True,
        "donot_use_mm_for_euclid_dist": False,
    }
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: "
                f"{dtypes.torch_name(t.dtype)}"
            )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    p = float(p)
    if not p >= 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1.dtype != x2.dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.torch_name(x1.dtype)} but found "
            f"{dtypes.torch_name(x2.dtype)}"
        )
    if x1.dtype == dtypes.float16:
        raise NotImplementedError("\"cdist\" not implemented for 'Half'")
    try:
        x1._backend_xp().broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        a, b = x1.shape[:-2], x2.shape[:-2]
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        k = next(i for i in range(n) if a[i] != b[i] and 1 not in (a[i], b[i]))
        raise RuntimeError(
            f"The size of tensor a ({a[k]}) must match the size of tensor b ({b[k]}) at "
            f"non-singleton dimension {k}"
        ) from None
    use_mm = modes[compute_mode]
    if use_mm is None:
        use_mm = x1.shape[-2] > 25 or x2.shape[-2] > 25
    return apply(CDIST, (x1, x2), {"p": p, "use_mm": p == 2 and use_mm})


def _matmul_add(xp, x, weight, bias):
    """x W^T + b with the bias added in place: no second [N, out] buffer and pass."""
    out = xp.matmul(x, weight.T)
    if getattr(out, "ndim", 0) and bias.ndim <= 1 and out.dtype == bias.dtype:
        out += bias  # `linear` checked: bias is [out_features] or a scalar
        return out
    return out + bias


# the C type names PyTorch's dtype-mismatch messages use
_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}  # fmt: skip


def _same_dtype(*tensors: Tensor, name: str) -> None:
    """Products never promote in PyTorch: float32 @ float64 raises, naming both dtypes."""
    first = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype != first:
            c1, c2 = (_C_NAMES.get(d.name, d.name) for d in (first, t._data.dtype))
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {c1} != {c2} ({name} of "
                f"{first} and {t._data.dtype})"
            )


def _check_matmul(a: Tensor, b: Tensor, name: str = "matmul") -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to {name} need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        sa = f"{a.shape[-2] if a.ndim > 1 else 1}x{k_a}"
        sb = f"{k_b}x{b.shape[-1] if b.ndim > 1 else 1}"
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb}) in {name} of shapes "
            f"{list(a.shape)} and {list(b.shape)}"
        )


def matmul(input: Tensor, other: Tensor) -> Tensor:
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        raise TypeError(
            f"matmul(): arguments must be Tensors, got {type(input).__name__} and "
            f"{type(other).__name__}"
        )
    _same_dtype(input, other, name="matmul")
    _check_matmul(input, other)
    return apply(MATMUL, (input, other), {})


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    return matmul(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    return matmul(input, tensor)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum over the last dims: out[i.., j..] = input[i.., :] . other[j.., :] (a 0-d operand
    scales the other), as one GEMM of the flattened leading dims."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.shape)} and {list(other.shape)}"
        )
    k = input.shape[-1]
    flat = matmul(input.reshape(-1, k), other.reshape(-1, k).transpose(0, 1))
    return flat.reshape(*input.shape[:-1], *other.shape[:-1])


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.unsqueeze(-1) * vec2.unsqueeze(0)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b, with W of shape [out_features, in_features] (one node, as PyTorch's addmm)."""
    if weight.ndim != 2:
        raise RuntimeError(
            f"linear: weight must be 2-D [out_features, in_features], got {list(weight.shape)}"
        )
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, x.shape[:-1] or (1,)))}"
            f"x{x.shape[-1] if x.ndim else 1} and {weight.shape[1]}x{weight.shape[0]}): linear got "
            f"input {list(x.shape)} and weight {list(weight.shape)}"
        )
    if bias is None:
        _same_dtype(x, weight, name="linear")
        return apply(LINEAR, (x, weight), {})
    if bias.shape not in ((weight.shape[0],), ()):
        raise RuntimeError(
            f"linear: bias must have shape [{weight.shape[0]}], got {list(bias.shape)}"
        )
    _same_dtype(x, weight, bias, name="linear")
    return apply(LINEAR_BIAS, (x, weight, bias), {})


def _parse_einsum(equation: str, shapes: list) -> tuple[list[str], str]:
    """Explicit subscripts per operand and output, with '...' spelled as capital letters."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(
            f"einsum(): {len(terms)} operands in the equation {equation!r} but {len(shapes)} "
            f"tensors given"
        )
    ell_rank = max(
        (len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes) if "..." in t), default=0
    )
    ell = "".join(chr(ord("Z") - k) for k in range(ell_rank))[::-1]
    out_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - len(t.replace("...", ""))
            t = t.replace("...", ell[len(ell) - n :])
        if len(t) != len(s):
            raise RuntimeError(
                f"einsum(): the subscript {t!r} has {len(t)} letters but the operand has "
                f"{len(s)} dims {list(s)}"
            )
        out_terms.append(t)
    sizes: dict = {}
    for k, (t, s) in enumerate(zip(out_terms, shapes)):
        for letter, n in zip(t, s):
            seen = sizes.setdefault(letter, (n, k))
            if seen[0] != n and 1 not in (n, seen[0]):
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes (original): "
                    f"subscript {letter!r} has size {seen[0]} in operand {seen[1]} "
                    f"{list(shapes[seen[1]])} and size {n} in operand {k} {list(s)}"
                )
    if arrow:
        rhs = rhs.replace("...", ell)
    else:
        letters = "".join(out_terms)
        rhs = ell + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        )
    return out_terms, rhs


def _einsum_grad(xp, g, i, xs, equation):
    """Gradient for operand i: contract g with every other operand into operand i's subscripts.

    Letters only operand i has (summed away in forward) come back by broadcasting; a repeated
    letter (a diagonal, "ii->i") gets the gradient on its diagonal and zeros elsewhere.
    """
    terms, rhs = _parse_einsum(equation, [x.shape for x in xs])
    target = terms[i]
    shape = tuple(xs[i].shape)
    size = {c: shape[k] for k, c in enumerate(target)}
    unique = "".join(dict.fromkeys(target))
    others = [t for k, t in enumerate(terms) if k != i]
    available = set(rhs).union(*others) if others else set(rhs)
    kept = "".join(c for c in unique if c in available)
    operands = [g] + [x for k, x in enumerate(xs) if k != i]
    grad = xp.einsum(",".join([rhs] + others) + "->" + kept, *operands)
    if kept != unique:
        grad = xp.reshape(grad, [grad.shape[kept.index(c)] if c in kept else 1 for c in unique])
        full = tuple(grad.shape[k] if c in kept else size[c] for k, c in enumerate(unique))
        grad = xp.broadcast_to(grad, full)
    if unique != target:  # scatter onto the diagonal: out[a, a, b] = grad[a, b] for "iij"
        data = grad._data if isinstance(grad, Tensor) else grad
        ar = _BACKENDS[type(data)].xp
        grad = xp.broadcast_to(grad, tuple(size[c] for c in unique))
        index = tuple(
            ar.arange(size[c]).reshape([-1 if u == c else 1 for u in unique]) for c in target
        )
        grad = xp.unindex(grad, shape, index)
    return grad


def einsum(equation: str, *operands) -> Tensor:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = promote(*operands)
    terms, rhs = _parse_einsum(equation, [t.shape for t in tensors])
    explicit = ",".join(terms) + "->" + rhs
    return apply(EINSUM, tuple(tensors), {"equation": explicit})
