"""`torch.nn.modules.padding`: names resolve from `minigrad.nn` (see modules/__init__)."""

from minigrad.nn.modules._lookup import lookup as __getattr__  # noqa: F401
