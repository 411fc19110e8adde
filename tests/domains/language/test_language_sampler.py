"""The MDLM teacher's ancestral sampler (core) as used by the domain, the row cache, RGAS and the exact
denoiser of the synthetic grammar."""

import itertools

import pytest
import torch

from fewstep.domains.language import (
    Discriminator,
    ExactDenoiser,
    GrammarLanguage,
    build_teacher,
    rgas_model_calls,
    rgas_sample,
    sample_mdlm,
    time_grid,
)
from fewstep.errors import ShapeError
from fewstep.samplers import MaskedAncestralSampler


def _tiny_teacher(vocab=6, length=10):
    torch.manual_seed(0)
    model, path = build_teacher(vocab, length, width=16, depth=1, heads=2)
    return model.eval(), path


def test_ancestral_sampler_never_changes_an_unmasked_token_and_ends_without_masks():
    model, path = _tiny_teacher()
    out = MaskedAncestralSampler(path).sample(model, path.prior((8, 10)), time_grid(12), keep_trajectory=True,
                                              generator=torch.Generator().manual_seed(0))
    states = [path.prior((8, 10)), *out.trajectory]
    for before, after in zip(states[:-1], states[1:]):
        unmasked = before != path.mask_id
        assert torch.equal(after[unmasked], before[unmasked])
    assert not (out.x0 == path.mask_id).any()
    assert int(out.x0.max()) < path.vocab_size


def test_row_cache_gives_the_uncached_samples_with_fewer_evaluations():
    model, path = _tiny_teacher()
    cached = sample_mdlm(model, path, 16, 10, 64, generator=torch.Generator().manual_seed(1))
    plain = sample_mdlm(model, path, 16, 10, 64, generator=torch.Generator().manual_seed(1), cache=False)
    assert torch.equal(cached.x0, plain.x0)
    assert plain.nfe == 64 and cached.nfe <= 11  # at most n + 1 distinct states per sequence


def test_rgas_returns_complete_sequences():
    model, path = _tiny_teacher()
    disc = Discriminator.from_teacher(model, trainable_blocks=1)
    out = rgas_sample(model, disc, path, 4, 10, 6, generator=torch.Generator().manual_seed(0))
    assert out.x0.shape == (4, 10) and out.nfe == 6 + 2 * 3 + 3 * 4  # student, tilting, selection
    assert not (out.x0 == path.mask_id).any()


def test_rgas_counts_every_discriminator_call_and_selection_only_never_tilts(monkeypatch):
    model, path = _tiny_teacher()
    disc = Discriminator.from_teacher(model, trainable_blocks=1)
    scored = []
    disc.register_forward_hook(lambda module, args, out: scored.append(out.shape[0]))

    def no_tilt(probs):
        raise AssertionError("selection-only RGAS must not tilt")

    monkeypatch.setattr(disc, "forward_soft", no_tilt)
    out = rgas_sample(model, disc, path, 4, 10, 7, guidance=(0.0, 0.0), generator=torch.Generator().manual_seed(0))
    assert len(scored) == 4 * 4  # 4 selection steps (7 - 7 // 2) x 4 candidates
    assert out.nfe == rgas_model_calls(7, 4, tilt=False) == 7 + len(scored)
    assert rgas_model_calls(7, 1, tilt=False) == 7  # one candidate: nothing to score


def test_exact_denoiser_matches_the_posterior_by_enumeration():
    lang = GrammarLanguage(vocab_size=3, seq_len=5, successors=2, leak=0.05, seed=1)
    every = torch.tensor(list(itertools.product(range(3), repeat=5)))
    weight = lang.log_prob(every).exp()  # (243,) exact law of every sequence
    z = torch.tensor([[3, 1, 3, 3, 0], [3, 3, 3, 3, 3], [2, 3, 1, 0, 3]])
    probs = ExactDenoiser(lang)(z, torch.ones(3)).double().softmax(dim=-1)
    for row, probs_row in zip(z, probs):
        consistent = ((every == row) | (row == 3)).all(dim=1)
        for i in range(5):
            brute = torch.zeros(4, dtype=torch.float64).index_add_(0, every[consistent, i], weight[consistent])
            assert torch.allclose(probs_row[i], brute / brute.sum(), atol=1e-6)
    with pytest.raises(ShapeError, match="z must hold tokens"):
        ExactDenoiser(lang)(torch.tensor([[4, 0, 0, 0, 0]]), torch.ones(1))
