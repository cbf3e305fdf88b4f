"""Small reference models built from `minigrad.nn`: a GPT-style decoder-only language model."""

from minigrad.models.gpt import GPT

__all__ = ["GPT"]
