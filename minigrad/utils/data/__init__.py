"""Alias of `minigrad.data`, so PyTorch's `torch.utils.data` imports work after renaming."""

from minigrad.data import *  # noqa: F403
from minigrad.data import __all__  # noqa: F401
