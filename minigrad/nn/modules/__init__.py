"""PyTorch's `torch.nn.modules.<sub>` import paths (`from torch.nn.modules.linear import
Linear`). Each submodule looks names up in `minigrad.nn` when asked, so every class minigrad.nn
gains (RNNs, transformer modules, ...) is reachable under every path without a list to keep."""

from minigrad.nn.modules._lookup import lookup as __getattr__  # noqa: F401
