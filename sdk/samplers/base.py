"""Sampler output type and the model protocol samplers call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import Tensor

#: ``model(x_t, t_b) -> prediction``; x_t: (b, ...), t_b: (b,). Conditioning is bound beforehand
#: (``functools.partial`` or a guidance wrapper), so samplers never forward stray keyword arguments.
Model = Callable[[Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class SampleOutput:
    """x0: (b, ...) the final sample; nfe: network evaluations used;
    trajectory: the states after each step, (b, ...) each, empty unless requested."""

    x0: Tensor
    nfe: int
    trajectory: tuple[Tensor, ...] = field(default=())
