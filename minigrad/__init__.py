"""minigrad: a small, readable autograd framework with PyTorch's API over NumPy (or CuPy).

import minigrad as mg
x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x).sum()
y.backward()
x.grad  # tensor([2., 4., 6.])
"""

import builtins as _builtins
import os as _os
import sys as _sys
import warnings as _warnings
from math import e, inf, nan, pi  # torch's constants: torch.inf, torch.nan, torch.e, torch.pi

from minigrad import autograd, dtypes, random
from minigrad.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
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
    tril_indices,
    triu_indices,
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


def numel(input: Tensor) -> _builtins.int:
    return input.numel()


# Subpackages last: they build on the core names above.
from minigrad import cuda, data, distributed, nn, optim, serialization, testing, utils, viz  # noqa: E402, I001
from minigrad.backend import get_default_device, set_default_device  # noqa: E402
from minigrad.serialization import load, save  # noqa: E402
from minigrad.nn.functional import cosine_similarity, pairwise_distance  # noqa: E402
from minigrad import amp, backends, onnx  # noqa: E402
from minigrad.amp import autocast  # noqa: E402
from minigrad.nn import modules as _nn_modules  # noqa: E402, F401  (torch.nn.modules paths)

cuda.amp = amp  # torch.cuda.amp.GradScaler / autocast
import minigrad.testing.gradcheck  # noqa: E402

_gradcheck_module = _sys.modules[
    "minigrad.testing.gradcheck"
]  # (the package attribute is the function)

autograd.gradcheck = _gradcheck_module.autograd_gradcheck  # torch.autograd's signatures
autograd.gradgradcheck = _gradcheck_module.autograd_gradgradcheck
nn.modules = _nn_modules

_compile_noted = False


def compile(
    model=None,
    *,
    fullgraph: _builtins.bool = False,
    dynamic=None,
    backend=None,
    mode=None,
    options=None,
    name=None,
    disable: _builtins.bool = False,
    recompile_limit=None,
    isolate_recompiles: _builtins.bool = False,
    shapes_spec=None,
):
    """`torch.compile`: returns `model` (a module or function) unchanged, noting once that
    minigrad runs eagerly; as a decorator with or without arguments too."""
    global _compile_noted
    if not _compile_noted:
        import warnings

        warnings.warn("mg.compile: minigrad has no compiler; the model runs eagerly, unchanged",
                      stacklevel=2)  # fmt: skip
        _compile_noted = True
    if model is None:
        return lambda fn: fn
    return model


def __getattr__(name: str):
    if name == "bfloat16":
        raise TypeError(
            "minigrad has no bfloat16: NumPy has no bfloat16 type and minigrad's kernels compute "
            "in the tensor's own dtype; use mg.float32 (or mg.float16 for storage)"
        )
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


# The engine's generated fast path (minigrad/_fast.py; autograd.py's plain path is the reference
# it is tested against). MINIGRAD_PLAIN_ENGINE=1 runs the plain path alone, e.g. in a debugger.
if _os.environ.get("MINIGRAD_PLAIN_ENGINE") != "1":
    from minigrad import _fast  # noqa: E402

    _fast.install()


# NumPy attributes a ufunc's overflow/divide/invalid RuntimeWarning to the Python frame that
# called it: inside minigrad, that is an op's forward or rule, where PyTorch is silent (exp
# overflowing to inf, log(0), 0/0). Ignore exactly those; the user's own NumPy calls still warn.
def _ignore_own_numpy_warnings() -> None:
    """Install the filter (at import; the differential tests re-install it inside their own
    warning-recording context, which replaces the process's filters)."""
    _warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"minigrad(\.|$)")


_ignore_own_numpy_warnings()
