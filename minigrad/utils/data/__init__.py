"""PyTorch's `torch.utils.data` spelling of `minigrad.data`: `from minigrad.utils.data import
DataLoader` and the submodules `dataloader`, `dataset`, `sampler` and `distributed` import as in
PyTorch."""

import sys as _sys

from minigrad.data import *  # noqa: F403
from minigrad.data import __all__, dataloader, dataset, sampler  # noqa: F401

# the submodules are minigrad.data's own modules under a second name (one class, one identity)
for _name in ("dataloader", "dataset", "sampler"):
    _sys.modules[f"{__name__}.{_name}"] = getattr(_sys.modules["minigrad.data"], _name)
from minigrad.utils.data import distributed  # noqa: E402, F401
