"""The exact denoiser's perplexity-entropy frontier under logit temperature."""

import pytest
import torch

from fewstep.domains.language.frontier import TemperedLogits, temperature_frontier
from fewstep.domains.language.metrics import unigram_entropy
from fewstep.domains.language.synthetic import ExactDenoiser, GrammarLanguage
from fewstep.domains.language.teacher import sample_mdlm
from fewstep.errors import ConfigError
from fewstep.paths import MaskedPath


def test_sharpening_the_exact_denoiser_trades_entropy_for_perplexity():
    language = GrammarLanguage(vocab_size=8, seq_len=16, seed=0)
    hot, cold = temperature_frontier(language, [1.0, 0.3], nfe=4, samples=256)
    assert cold["ppl"] < hot["ppl"] and cold["entropy"] < hot["entropy"]
    # T = 1 is the plain exact denoiser under the same sampler and seed
    x = sample_mdlm(ExactDenoiser(language), MaskedPath(vocab_size=8), 256, 16, 4,
                    generator=torch.Generator().manual_seed(1)).x0
    assert hot["ppl"] == pytest.approx(language.oracle_perplexity(x))
    assert hot["entropy"] == pytest.approx(unigram_entropy(x))


def test_frontier_rejects_bad_arguments():
    language = GrammarLanguage(vocab_size=8, seq_len=16, seed=0)
    with pytest.raises(ConfigError, match="temperature"):
        TemperedLogits(ExactDenoiser(language), 0.0)
    with pytest.raises(ConfigError, match="temperatures"):
        temperature_frontier(language, [])
    with pytest.raises(ConfigError, match="nfe"):
        temperature_frontier(language, [1.0], nfe=0)
