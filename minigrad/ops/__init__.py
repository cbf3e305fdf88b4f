"""Every differentiable primitive, grouped like a derivative table, and the glue that makes them
Tensor methods and operators.

`graph_namespace` is the `xp` that gradient rules see under `create_graph=True`: the same
function names as NumPy, implemented by minigrad ops, so one rule text serves both first-order
backward (on arrays) and higher-order backward (on Tensors).
"""

from __future__ import annotations

from minigrad import autograd
from minigrad.ops import (  # noqa: F401
    elementwise,
    indexing,
    linalg,
    mathfns,
    reduce,
    scattering,
    searching,
    shape,
    sorting,
)
from minigrad.ops.elementwise import *  # noqa: F403
from minigrad.ops.indexing import (  # noqa: F401
    gather,
    getitem,
    index_select,
    masked_select,
    one_hot,
    take,
    take_along_dim,
)
from minigrad.ops.linalg import (  # noqa: F401
    bmm,
    cdist,
    dot,
    einsum,
    inner,
    linear,
    matmul,
    mm,
    mv,
    outer,
)
from minigrad.ops.mathfns import *  # noqa: F403
from minigrad.ops.reduce import *  # noqa: F403
from minigrad.ops.scattering import *  # noqa: F403
from minigrad.ops.searching import (  # noqa: F401
    bucketize,
    histc,
    searchsorted,
    unique,
    unique_consecutive,
)
from minigrad.ops.shape import *  # noqa: F403
from minigrad.ops.sorting import *  # noqa: F403


class GraphNamespace:
    """The `xp` a gradient rule sees under `create_graph=True`: NumPy's names for the functions
    rules call, each implemented by a minigrad op, so the rule's result is recorded.

    A name not in the table raises at once, naming it (never a bare AttributeError or a silent
    wrong result); tests/test_autograd.py checks that every name any rule calls is here, unless
    its op says `double_backward=False` (those ops are listed in docs/double-backward.md).
    """

    def __init__(self, functions: dict):
        vars(self).update(functions)

    def __getattr__(self, name: str):  # only called for names missing from the table
        raise NotImplementedError(
            f"double backward: a gradient rule calls xp.{name}, which minigrad's graph "
            f"namespace (minigrad/ops/__init__.py) does not provide; add it there, built from "
            f"minigrad ops, or mark the op double_backward=False"
        )

    def fused(self, body):
        # an elementwise chain under create_graph is recorded op by op (see ArrayNamespace.fused)
        return lambda *tensors: body(self, *tensors)


graph_namespace = GraphNamespace(
    dict(
        exp=elementwise.exp,
        log=elementwise.log,
        log1p=elementwise.log1p,
        sqrt=elementwise.sqrt,
        sin=elementwise.sin,
        cos=elementwise.cos,
        tanh=elementwise.tanh,
        sign=elementwise.sign,
        trunc=elementwise.trunc,
        floor_divide=elementwise.floor_divide,  # piecewise constant: no gradient
        abs=elementwise.abs,
        erf=elementwise.erf,
        where=elementwise.where,
        maximum=elementwise.maximum,
        minimum=elementwise.minimum,
        sum=reduce.sum,
        mean=reduce.mean,
        cumsum=lambda x, axis: reduce.cumsum(x, axis),
        cumprod=lambda x, axis: mathfns.cumprod(x, axis),
        sinh=mathfns.sinh,
        cosh=mathfns.cosh,
        matmul=linalg.matmul,
        einsum=linalg.einsum,
        reshape=shape.reshape,
        broadcast_to=shape.broadcast_to,
        swapaxes=shape.transpose,  # NumPy's swapaxes(x, a, b) is torch's transpose
        transpose=shape.permute,  # NumPy's transpose(x, axes) is torch's permute
        expand_dims=shape.unsqueeze,
        flip=shape.flip,
        roll=shape.roll,
        tril=shape.tril,
        triu=shape.triu,
        unindex=indexing.unindex,
    )
)
autograd.graph_namespace = graph_namespace
