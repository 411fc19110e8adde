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


def test_selective_sharpening_touches_only_its_steps_and_crowded_positions():
    language = GrammarLanguage(vocab_size=8, seq_len=16, seed=0)
    exact, mask = ExactDenoiser(language), 8
    z = torch.tensor([[mask, 1, 2, 3, mask, mask, 4, 5, 6, 7, 0, 1, 2, 3, 4, mask]])  # 4, 5 crowded; 0, 15 not
    plain = exact(z, torch.tensor([0.5]))
    tempered = TemperedLogits(exact, 0.5, mask_id=mask, nfe=4, window=(1, 3), radius=1)
    inside = tempered(z, torch.tensor([0.5]))  # step 2 of 4
    crowded = torch.zeros(16, dtype=torch.bool)
    crowded[[4, 5]] = True
    torch.testing.assert_close(inside[0, crowded], plain[0, crowded] / 0.5)
    torch.testing.assert_close(inside[0, ~crowded], plain[0, ~crowded])
    torch.testing.assert_close(tempered(z, torch.tensor([1.0])), exact(z, torch.tensor([1.0])))  # step 0
    row = temperature_frontier(language, [0.3], nfe=4, samples=64, window=(1, 3), radius=1)[0]
    assert row["window"] == (1, 3) and row["radius"] == 1


def test_frontier_rejects_bad_arguments():
    language = GrammarLanguage(vocab_size=8, seq_len=16, seed=0)
    with pytest.raises(ConfigError, match="temperature"):
        TemperedLogits(ExactDenoiser(language), 0.0, mask_id=8)
    with pytest.raises(ConfigError, match="window"):
        TemperedLogits(ExactDenoiser(language), 0.5, mask_id=8, nfe=4, window=(2, 6))
    with pytest.raises(ConfigError, match="radius"):
        TemperedLogits(ExactDenoiser(language), 0.5, mask_id=8, radius=-1)
    with pytest.raises(ConfigError, match="temperatures"):
        temperature_frontier(language, [])
    with pytest.raises(ConfigError, match="nfe"):
        temperature_frontier(language, [1.0], nfe=0)


def test_strided_order_removes_the_exact_denoisers_factorisation_error_on_a_markov_chain():
    """Tokens revealed together in the strided order are conditionally independent under an order-1 chain
    (after the first step), so 4 steps sample it nearly exactly; random reveals clash at neighbours."""
    language = GrammarLanguage(vocab_size=8, seq_len=16, seed=0)
    exact, path = ExactDenoiser(language), MaskedPath(vocab_size=8)
    ppl = {order: language.oracle_perplexity(sample_mdlm(exact, path, 512, 16, 4, order=order,
                                                         generator=torch.Generator().manual_seed(1)).x0)
           for order in ("random", "strided")}
    data = language.oracle_perplexity(language.sample(512, generator=torch.Generator().manual_seed(1)))
    assert ppl["strided"] == pytest.approx(data, rel=0.05)
    assert ppl["random"] > 1.2 * ppl["strided"]
