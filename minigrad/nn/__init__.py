"""`minigrad.nn`: modules, layers, losses, initialisers and functional ops, PyTorch's way.

from minigrad import nn
import minigrad.nn.functional as F
"""

from minigrad.nn import functional, init, parallel, utils
from minigrad.nn.attention import (
    KVCache,
    MultiHeadAttention,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)
from minigrad.nn.conv import AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, MaxPool2d
from minigrad.nn.layers import (
    GELU,
    MLP,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    RMSNorm,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from minigrad.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigrad.nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential
from minigrad.nn.transformer import FeedForward, SwiGLU, TransformerBlock

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Identity", "Linear", "MLP", "Embedding", "LayerNorm", "RMSNorm", "Dropout", "Flatten",
    "Unflatten", "ReLU", "GELU", "Tanh", "Sigmoid", "SiLU", "LeakyReLU", "Softmax", "LogSoftmax",
    "Softplus", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "KVCache", "MultiHeadAttention", "RotaryEmbedding",
    "SinusoidalPositionalEncoding", "FeedForward", "SwiGLU", "TransformerBlock", "Conv1d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "parallel",
]  # fmt: skip
