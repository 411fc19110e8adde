"""How far sharpening alone takes the *exact* MDLM denoiser at few NFE: the perplexity-entropy frontier.

``python -m fewstep.domains.language.frontier [--nfe 8] [--samples 512] [--temperatures 1 0.8 0.7 0.6 0.5]``
samples the Bayes-optimal denoiser of the bench's synthetic language (:class:`ExactDenoiser`) with its
logits divided by a temperature T, through the same ancestral sampler as the teacher and the student, and
prints the oracle perplexity and unigram entropy of each T. At few NFE the denoiser's factorisation error
(independent draws of positions unmasked together) sets its perplexity; T < 1 lowers it by sharpening every
position alike, and pays in entropy. A few-step student that must stay within an entropy band can only
beat that frontier by sharpening *selectively*, which is what DiDi-Instruct's reverse-KL signal is meant to
teach (Zheng et al. 2025, arXiv:2509.25035, Sec. 3).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from fewstep.domains.language.metrics import unigram_entropy
from fewstep.domains.language.pipeline import LanguageScale, load_data
from fewstep.domains.language.synthetic import ExactDenoiser, GrammarLanguage
from fewstep.domains.language.teacher import sample_mdlm
from fewstep.errors import ConfigError
from fewstep.paths import MaskedPath


class TemperedLogits(nn.Module):
    """``model``'s logits divided by ``temperature`` (the mask logit stays -inf)."""

    def __init__(self, model: nn.Module, temperature: float) -> None:
        super().__init__()
        if not temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature!r}")
        self.model, self.temperature = model, float(temperature)

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        return self.model(z, t) / self.temperature


def temperature_frontier(language: GrammarLanguage, temperatures: Sequence[float], nfe: int = 8,
                         samples: int = 512, seed: int = 1) -> list[dict]:
    """One row per temperature: {temperature, nfe, ppl (oracle), entropy (unigram), valid (share)}.

    Every temperature starts from the same generator seed, so rows differ only by T.
    """
    if not temperatures:
        raise ConfigError("temperatures must name at least one value")
    if not isinstance(nfe, int) or nfe < 1 or not isinstance(samples, int) or samples < 1:
        raise ConfigError(f"nfe and samples must be positive ints, got nfe={nfe!r}, samples={samples!r}")
    exact = ExactDenoiser(language)
    path = MaskedPath(vocab_size=language.vocab_size)
    rows = []
    for temperature in temperatures:
        generator = torch.Generator().manual_seed(seed)
        x = sample_mdlm(TemperedLogits(exact, temperature), path, samples, language.seq_len, nfe,
                        generator=generator).x0
        rows.append({"temperature": float(temperature), "nfe": nfe, "ppl": language.oracle_perplexity(x),
                     "entropy": unigram_entropy(x), "valid": float(language.is_valid(x).float().mean())})
    return rows


def main(argv: Sequence[str] | None = None) -> list[dict]:
    """Prints the frontier on the full bench's synthetic language (:func:`load_data` at the full scale);
    returns its rows."""
    parser = argparse.ArgumentParser(prog="python -m fewstep.domains.language.frontier",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--nfe", type=int, default=8)
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.8, 0.7, 0.6, 0.5])
    args = parser.parse_args(argv)
    language = load_data("synthetic", LanguageScale.named("full")).oracle
    rows = temperature_frontier(language, args.temperatures, args.nfe, args.samples)
    print(f"exact denoiser of {language} at {args.nfe} NFE, {args.samples} samples")
    print(f"{'T':>5} {'ppl':>7} {'entropy':>8} {'valid':>6}")
    for r in rows:
        print(f"{r['temperature']:>5.2f} {r['ppl']:>7.3f} {r['entropy']:>8.3f} {r['valid']:>6.3f}")
    return rows


if __name__ == "__main__":
    main()
