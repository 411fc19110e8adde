"""The MDLM teacher's ancestral sampler (core) as used by the domain, the row cache and RGAS."""

import torch

from fewstep.domains.language import Discriminator, build_teacher, rgas_sample, sample_mdlm, time_grid
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
    assert out.x0.shape == (4, 10) and out.nfe == 6
    assert not (out.x0 == path.mask_id).any()
