"""Every differentiable primitive, grouped like a derivative table, and the glue that makes them
Tensor methods and operators.

`graph_namespace` is the `xp` that gradient rules see under `create_graph=True`: the same
function names as NumPy, implemented by minigrad ops, so one rule text serves both first-order
backward (on arrays) and higher-order backward (on Tensors).
"""

from __future__ import annotations

from types import SimpleNamespace

from minigrad import autograd
from minigrad.ops import elementwise, indexing, linalg, reduce, scattering, shape, sorting
from minigrad.ops.elementwise import *  # noqa: F403
from minigrad.ops.indexing import gather, getitem, index_select, masked_select, one_hot, take  # noqa: F401
from minigrad.ops.linalg import bmm, dot, einsum, inner, linear, matmul, mm, mv, outer  # noqa: F401
from minigrad.ops.reduce import *  # noqa: F403
from minigrad.ops.scattering import *  # noqa: F403
from minigrad.ops.shape import *  # noqa: F403
from minigrad.ops.sorting import *  # noqa: F403
from minigrad.tensor import Tensor

graph_namespace = SimpleNamespace(
    exp=elementwise.exp,
    log=elementwise.log,
    sqrt=elementwise.sqrt,
    sin=elementwise.sin,
    cos=elementwise.cos,
    tanh=elementwise.tanh,
    sign=elementwise.sign,
    abs=elementwise.abs,
    erf=elementwise.erf,
    where=elementwise.where,
    maximum=elementwise.maximum,
    minimum=elementwise.minimum,
    sum=reduce.sum,
    mean=reduce.mean,
    cumsum=lambda x, axis: reduce.cumsum(x, axis),
    matmul=linalg.matmul,
    einsum=linalg.einsum,
    reshape=shape.reshape,
    broadcast_to=shape.broadcast_to,
    swapaxes=shape.transpose,
    transpose=shape.permute,
    expand_dims=shape.unsqueeze,
    flip=shape.flip,
    roll=shape.roll,
    tril=shape.tril,
    triu=shape.triu,
    unindex=indexing.unindex,
)
# an elementwise chain under create_graph is recorded op by op (see ArrayNamespace.fused)
graph_namespace.fused = lambda body: lambda *tensors: body(graph_namespace, *tensors)
autograd.graph_namespace = graph_namespace


def _reflected(fn):
    def method(self, other):
        return fn(other, self)

    return method


_METHODS = dict(
    # elementwise
    add=elementwise.add,
    sub=elementwise.sub,
    subtract=elementwise.sub,
    mul=elementwise.mul,
    multiply=elementwise.mul,
    div=elementwise.div,
    divide=elementwise.div,
    true_divide=elementwise.div,
    floor_divide=elementwise.floor_divide,
    remainder=elementwise.remainder,
    pow=elementwise.pow,
    neg=elementwise.neg,
    negative=elementwise.neg,
    exp=elementwise.exp,
    log=elementwise.log,
    log1p=elementwise.log1p,
    log2=elementwise.log2,
    log10=elementwise.log10,
    expm1=elementwise.expm1,
    sqrt=elementwise.sqrt,
    rsqrt=elementwise.rsqrt,
    abs=elementwise.abs,
    sign=elementwise.sign,
    sin=elementwise.sin,
    cos=elementwise.cos,
    tan=elementwise.tan,
    tanh=elementwise.tanh,
    sigmoid=elementwise.sigmoid,
    relu=elementwise.relu,
    erf=elementwise.erf,
    square=elementwise.square,
    reciprocal=elementwise.reciprocal,
    clamp=elementwise.clamp,
    clip=elementwise.clamp,
    maximum=elementwise.maximum,
    minimum=elementwise.minimum,
    where=lambda self, condition, other: elementwise.where(condition, self, other),
    masked_fill=elementwise.masked_fill,
    eq=elementwise.eq,
    ne=elementwise.ne,
    lt=elementwise.lt,
    le=elementwise.le,
    gt=elementwise.gt,
    ge=elementwise.ge,
    logical_and=elementwise.logical_and,
    logical_or=elementwise.logical_or,
    logical_not=elementwise.logical_not,
    floor=elementwise.floor,
    ceil=elementwise.ceil,
    round=elementwise.round,
    trunc=elementwise.trunc,
    isnan=elementwise.isnan,
    isinf=elementwise.isinf,
    isfinite=elementwise.isfinite,
    equal=elementwise.equal,
    allclose=elementwise.allclose,
    isclose=elementwise.isclose,
    astype=lambda self, d: self.to(d),
    # reductions
    sum=reduce.sum,
    mean=reduce.mean,
    var=reduce.var,
    std=reduce.std,
    max=reduce.max,
    min=reduce.min,
    amax=reduce.amax,
    amin=reduce.amin,
    argmax=reduce.argmax,
    argmin=reduce.argmin,
    logsumexp=reduce.logsumexp,
    prod=reduce.prod,
    cumsum=reduce.cumsum,
    norm=reduce.norm,
    softmax=reduce.softmax,
    log_softmax=reduce.log_softmax,
    nonzero=reduce.nonzero,
    all=reduce.all,
    any=reduce.any,
    count_nonzero=reduce.count_nonzero,
    # shape
    reshape=shape.reshape,
    view=shape.view,
    view_as=shape.view_as,
    reshape_as=shape.reshape_as,
    flatten=shape.flatten,
    unflatten=shape.unflatten,
    permute=shape.permute,
    transpose=shape.transpose,
    swapaxes=shape.transpose,
    swapdims=shape.transpose,
    t=shape.t,
    movedim=shape.movedim,
    moveaxis=shape.movedim,
    expand=shape.expand,
    expand_as=shape.expand_as,
    broadcast_to=shape.broadcast_to,
    squeeze=shape.squeeze,
    unsqueeze=shape.unsqueeze,
    split=shape.split,
    chunk=shape.chunk,
    unbind=shape.unbind,
    flip=shape.flip,
    roll=shape.roll,
    tril=shape.tril,
    triu=shape.triu,
    repeat=shape.repeat,
    repeat_interleave=shape.repeat_interleave,
    # indexing and products
    gather=indexing.gather,
    index_select=indexing.index_select,
    take=indexing.take,
    masked_select=indexing.masked_select,
    take_along_dim=indexing.gather,
    matmul=linalg.matmul,
    mm=linalg.mm,
    bmm=linalg.bmm,
    mv=linalg.mv,
    dot=linalg.dot,
    outer=linalg.outer,
    # operators
    __add__=elementwise.add,
    __radd__=_reflected(elementwise.add),
    __sub__=elementwise.sub,
    __rsub__=_reflected(elementwise.sub),
    __mul__=elementwise.mul,
    __rmul__=_reflected(elementwise.mul),
    __truediv__=elementwise.div,
    __rtruediv__=_reflected(elementwise.div),
    __floordiv__=elementwise.floor_divide,
    __rfloordiv__=_reflected(elementwise.floor_divide),
    __mod__=elementwise.remainder,
    __rmod__=_reflected(elementwise.remainder),
    __pow__=elementwise.pow,
    __rpow__=_reflected(elementwise.pow),
    __matmul__=linalg.matmul,
    __rmatmul__=_reflected(linalg.matmul),
    __neg__=elementwise.neg,
    __pos__=lambda self: self,
    __abs__=elementwise.abs,
    __eq__=elementwise.eq,
    __ne__=elementwise.ne,
    __lt__=elementwise.lt,
    __le__=elementwise.le,
    __gt__=elementwise.gt,
    __ge__=elementwise.ge,
    __and__=elementwise.logical_and,
    __or__=elementwise.logical_or,
    __xor__=elementwise.logical_xor,
    __invert__=elementwise.bitwise_not,
    __getitem__=indexing.getitem,
    # scatter family (minigrad/ops/scattering.py)
    scatter=scattering.scatter,
    scatter_=scattering.scatter_,
    scatter_add=scattering.scatter_add,
    scatter_add_=scattering.scatter_add_,
    scatter_reduce=scattering.scatter_reduce,
    scatter_reduce_=scattering.scatter_reduce_,
    index_add=scattering.index_add,
    index_add_=scattering.index_add_,
    index_copy=scattering.index_copy,
    index_copy_=scattering.index_copy_,
    index_fill=scattering.index_fill,
    index_fill_=scattering.index_fill_,
    masked_scatter=scattering.masked_scatter,
    masked_scatter_=scattering.masked_scatter_,
    index_put=scattering.index_put,
    index_put_=scattering.index_put_,
    # order statistics (minigrad/ops/sorting.py)
    sort=sorting.sort,
    argsort=sorting.argsort,
    msort=sorting.msort,
    topk=sorting.topk,
    kthvalue=sorting.kthvalue,
    median=sorting.median,
    nanmedian=sorting.nanmedian,
    mode=sorting.mode,
)
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))))
Tensor.mT = property(lambda self: shape.transpose(self, -2, -1))
Tensor.__hash__ = object.__hash__  # by identity (defining __eq__ would unset it); C-level: fast
