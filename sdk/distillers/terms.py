"""Composable weighted loss terms: rCM = sCM + DMD as a weighted sum, not a third copy of either."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from fewstep.checks import check_positive
from fewstep.errors import ConfigError
from fewstep.objectives.base import ObjectiveOutput

#: ``fn(x0, step, generator) -> ObjectiveOutput``: one unweighted loss term.
TermFn = Callable[[Tensor | None, int, torch.Generator | None], ObjectiveOutput]


@dataclass(frozen=True)
class LossTerm:
    """A named loss ``fn`` with a non-negative ``weight`` in a composite loss."""

    name: str
    weight: float
    fn: TermFn

    def __post_init__(self) -> None:
        check_positive(f"LossTerm {self.name!r} weight", self.weight, allow_zero=True)


def combine(outputs: Sequence[tuple[str, float, ObjectiveOutput]]) -> ObjectiveOutput:
    r"""L = sum_i w_i L_i and per_sample = sum_i w_i per_sample_i.

    Metrics keep every term's *unweighted* loss as ``<name>/loss`` plus its own metrics as
    ``<name>/<key>``. outputs: (name, weight, output) triples; per_sample tensors must share a shape.
    """
    if not outputs:
        raise ConfigError("combine needs at least one loss term")
    names = [name for name, _, _ in outputs]
    if len(set(names)) != len(names):
        raise ConfigError(f"loss term names must be unique, got {names}")
    loss = sum(w * out.loss for _, w, out in outputs)
    per_sample = sum(w * out.per_sample for _, w, out in outputs)
    metrics: dict[str, Tensor] = {}
    for name, _, out in outputs:
        metrics[f"{name}/loss"] = out.loss.detach()
        metrics.update({f"{name}/{key}": value for key, value in out.metrics.items()})
    return ObjectiveOutput(loss=loss, per_sample=per_sample, metrics=metrics)


def evaluate_terms(terms: Sequence[LossTerm], x0: Tensor | None, step: int,
                   generator: torch.Generator | None) -> ObjectiveOutput:
    """Evaluates each term (skipping zero weights) and combines them with :func:`combine`."""
    active = [term for term in terms if term.weight > 0]
    return combine([(term.name, term.weight, term.fn(x0, step, generator)) for term in active])
