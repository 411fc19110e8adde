"""Network building blocks."""

from fewstep.nn.attention import Attention, AttentionBackend, math_attention
from fewstep.nn.dit import DiTBlock, modulate
from fewstep.nn.ema import EMA, EMASchedule, ema_decay
from fewstep.nn.embeddings import TimestepEmbedder, sinusoidal_embedding
from fewstep.nn.mlp import MLPConfig, TimeMLP
from fewstep.nn.token_transformer import TokenTransformer, TokenTransformerConfig

__all__ = [
    "EMA",
    "Attention",
    "AttentionBackend",
    "DiTBlock",
    "EMASchedule",
    "MLPConfig",
    "TimeMLP",
    "TimestepEmbedder",
    "TokenTransformer",
    "TokenTransformerConfig",
    "ema_decay",
    "math_attention",
    "modulate",
    "sinusoidal_embedding",
]
