"""The lookup every `minigrad.nn.modules.<sub>` module answers attribute requests with."""

from __future__ import annotations


def lookup(name: str):
    import minigrad.nn as nn

    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(nn, name)
    except AttributeError:
        raise AttributeError(
            f"minigrad.nn has no {name!r} (asked for as torch.nn.modules.*)"
        ) from None
