"""How far sharpening alone takes the *exact* MDLM denoiser at few NFE: the perplexity-entropy frontier.

``python -m fewstep.domains.language.frontier [--nfe 8] [--samples 512] [--temperatures 1 0.8 0.7 0.6 0.5]
[--window A B] [--radius R]`` samples the Bayes-optimal denoiser of the bench's synthetic language
(:class:`ExactDenoiser`) with its logits divided by a temperature T, through the same ancestral sampler as the
teacher and the student, and prints the oracle perplexity and unigram entropy of each T. At few NFE the
denoiser's factorisation error (independent draws of positions unmasked together) sets its perplexity; T < 1
lowers it, and pays in entropy. A few-step student that must stay within an entropy band has to sharpen
*selectively*, which is what DiDi-Instruct's reverse-KL signal is meant to teach (Zheng et al. 2025,
arXiv:2509.25035, Sec. 3). ``--window A B`` sharpens only steps A..B-1 of the ``nfe`` (0 the first), and
``--radius R`` only the masked positions with another masked position within R tokens, where simultaneous
draws can clash: two hand-made selective rules that bound what a student's sharpening has to beat.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fewstep.domains.language.metrics import unigram_entropy
from fewstep.domains.language.pipeline import LanguageScale, load_data
from fewstep.domains.language.synthetic import ExactDenoiser, GrammarLanguage
from fewstep.domains.language.teacher import sample_mdlm
from fewstep.errors import ConfigError
from fewstep.paths import MaskedPath


class TemperedLogits(nn.Module):
    """``model``'s logits divided by ``temperature`` (the mask logit stays -inf).

    ``window = (A, B)`` applies it only at steps A..B-1 of a uniform ``nfe``-step grid (step k starts at
    t = 1 - k / nfe); ``radius`` > 0 only at masked positions with another masked position within ``radius``.
    z: (b, n) with ``mask_id`` for masked tokens, t: (b,).
    """

    def __init__(self, model: nn.Module, temperature: float, *, mask_id: int, nfe: int | None = None,
                 window: tuple[int, int] | None = None, radius: int = 0) -> None:
        super().__init__()
        if not temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature!r}")
        if window is not None and (nfe is None or len(window) != 2 or not 0 <= window[0] < window[1] <= nfe):
            raise ConfigError(f"window must be (A, B) with 0 <= A < B <= nfe, got window={window!r}, nfe={nfe!r}")
        if not isinstance(radius, int) or radius < 0:
            raise ConfigError(f"radius must be an int >= 0, got {radius!r}")
        self.model, self.temperature, self.mask_id = model, float(temperature), mask_id
        self.nfe, self.window, self.radius = nfe, window, radius

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        logits = self.model(z, t)
        if self.window is not None:
            step = round((1 - float(t[0])) * self.nfe)
            if not self.window[0] <= step < self.window[1]:
                return logits
        if self.radius == 0:
            return logits / self.temperature
        masked = (z == self.mask_id).float().unsqueeze(1)  # (b, 1, n)
        kernel = torch.ones(1, 1, 2 * self.radius + 1, device=z.device)
        neighbours = (F.conv1d(masked, kernel, padding=self.radius) - masked).squeeze(1)  # masked ones within radius
        crowded = (neighbours > 0) & (z == self.mask_id)  # (b, n)
        return torch.where(crowded.unsqueeze(-1), logits / self.temperature, logits)


def temperature_frontier(language: GrammarLanguage, temperatures: Sequence[float], nfe: int = 8,
                         samples: int = 512, seed: int = 1, window: tuple[int, int] | None = None,
                         radius: int = 0) -> list[dict]:
    """One row per temperature: {temperature, nfe, window, radius, ppl (oracle), entropy (unigram), valid
    (share)}; ``window`` and ``radius`` as in :class:`TemperedLogits`.

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
        model = TemperedLogits(exact, temperature, mask_id=path.mask_id, nfe=nfe, window=window, radius=radius)
        # no caching: the tempered logits depend on the step even where no token changed
        x = sample_mdlm(model, path, samples, language.seq_len, nfe, generator=generator, cache=False).x0
        rows.append({"temperature": float(temperature), "nfe": nfe, "window": window, "radius": radius,
                     "ppl": language.oracle_perplexity(x),
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
    parser.add_argument("--window", type=int, nargs=2, default=None, metavar=("A", "B"),
                        help="sharpen only steps A..B-1 (0 is the first step)")
    parser.add_argument("--radius", type=int, default=0,
                        help="sharpen only masked positions with another masked position within R tokens")
    args = parser.parse_args(argv)
    language = load_data("synthetic", LanguageScale.named("full")).oracle
    window = tuple(args.window) if args.window else None
    rows = temperature_frontier(language, args.temperatures, args.nfe, args.samples, window=window,
                                radius=args.radius)
    where = f", steps {window[0]}..{window[1] - 1}" if window else ""
    where += f", positions with a masked neighbour within {args.radius}" if args.radius else ""
    print(f"exact denoiser of {language} at {args.nfe} NFE, {args.samples} samples{where}")
    print(f"{'T':>5} {'ppl':>7} {'entropy':>8} {'valid':>6}")
    for r in rows:
        print(f"{r['temperature']:>5.2f} {r['ppl']:>7.3f} {r['entropy']:>8.3f} {r['valid']:>6.3f}")
    return rows


if __name__ == "__main__":
    main()
