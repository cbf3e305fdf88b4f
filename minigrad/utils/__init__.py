"""PyTorch's `torch.utils` spelling: `minigrad.utils.data` is `minigrad.data`, imported with
minigrad (as torch imports `torch.utils.data`)."""

from minigrad.utils import data  # noqa: F401
