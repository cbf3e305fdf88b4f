"""minigrad: a small, readable autograd framework with PyTorch's API over NumPy (or CuPy).

import minigrad as mg
x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x).sum()
y.backward()
x.grad  # tensor([2., 4., 6.])
"""

import builtins as _builtins

from minigrad import autograd, dtypes, random
from minigrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.backend import Device as device
from minigrad.creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.dtypes import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from minigrad.ops import *  # noqa: F403
from minigrad.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from minigrad.tensor import Tensor

__version__ = "0.1.0"


def is_tensor(obj: object) -> _builtins.bool:
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> _builtins.int:
    return x.numel()


# Subpackages last: they build on the core names above.
from minigrad import cuda, data, nn, optim, serialization, testing, utils, viz  # noqa: E402, I001
from minigrad.backend import get_default_device, set_default_device  # noqa: E402
from minigrad.serialization import load, save  # noqa: E402
