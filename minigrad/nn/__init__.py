"""`minigrad.nn`: modules, layers, losses, initialisers and functional ops, PyTorch's way.

from minigrad import nn
import minigrad.nn.functional as F
"""

from minigrad.nn import functional, init, parallel, utils
from minigrad.nn.activation import (
    CELU,
    ELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from minigrad.nn.attention import (
    KVCache,
    MultiHeadAttention,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)
from minigrad.nn.conv import (
    AvgPool2d,
    AvgPool3d,
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    Conv1d,
    Conv2d,
    Conv3d,
    MaxPool2d,
    MaxPool3d,
)
from minigrad.nn.layers import (
    GELU,
    MLP,
    CosineSimilarity,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    PairwiseDistance,
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
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from minigrad.nn.module import (
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    ParameterDict,
    ParameterList,
    Sequential,
)
from minigrad.nn.multihead import MultiheadAttention
from minigrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from minigrad.nn.transformer import (
    FeedForward,
    SwiGLU,
    Transformer,
    TransformerBlock,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Identity", "Linear", "MLP", "Embedding", "LayerNorm", "RMSNorm", "Dropout", "Flatten",
    "Unflatten", "ReLU", "GELU", "Tanh", "Sigmoid", "SiLU", "LeakyReLU", "Softmax", "LogSoftmax",
    "Softplus", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "KVCache", "MultiHeadAttention", "RotaryEmbedding",
    "SinusoidalPositionalEncoding", "FeedForward", "SwiGLU", "TransformerBlock", "Conv1d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "RNNBase", "RNN", "LSTM",
    "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer", "parallel",
]  # fmt: skip
from minigrad.nn.convtranspose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: E402
from minigrad.nn.ctc import CTCLoss  # noqa: E402
from minigrad.nn.embedding_bag import EmbeddingBag  # noqa: E402
from minigrad.nn.fold import Bilinear, Fold, Unfold  # noqa: E402
from minigrad.nn.normalization import (  # noqa: E402
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LocalResponseNorm,
)
from minigrad.nn.padding import (  # noqa: E402
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    PixelShuffle,
    PixelUnshuffle,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from minigrad.nn.padding import __all__ as _padding_names  # noqa: E402
from minigrad.nn.pooling import (  # noqa: E402
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    AvgPool1d,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxUnpool1d,
    MaxUnpool2d,
)
from minigrad.nn.upsampling import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

__all__ += [n for n in _padding_names if n[0].isupper()] + ["ParameterList", "ParameterDict"]
__all__ += ["ConvTranspose1d", "ConvTranspose2d", "Upsample", "UpsamplingNearest2d"]
__all__ += ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveMaxPool3d"]
__all__ += ["BatchNorm3d", "CTCLoss", "EmbeddingBag"]
__all__ += ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
__all__ += ["LocalResponseNorm", "Bilinear", "Fold", "Unfold"]
__all__ += [
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "LPPool1d", "LPPool2d", "MaxPool1d",
    "MaxUnpool1d", "MaxUnpool2d",
]  # fmt: skip
__all__ += [
    "MarginRankingLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
    "MultiLabelSoftMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
    "PoissonNLLLoss", "GaussianNLLLoss",
]  # fmt: skip
__all__ += ["UpsamplingBilinear2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"]
__all__ += [
    "ELU", "SELU", "CELU", "ReLU6", "Hardtanh", "Hardswish", "Hardsigmoid", "Mish", "LogSigmoid",
    "Softsign", "Softmin", "Softshrink", "Hardshrink", "Tanhshrink", "Threshold", "PReLU", "GLU",
]  # fmt: skip
