"""DiDi-Instruct: grouped normalisation, the discriminator's density ratio, regularisers, one training step."""

import math

import pytest
import torch

from fewstep.distillers.discrete import discriminator_loss, grouped_advantage
from fewstep.distillers.training import distillation_step, make_optimizers
from fewstep.domains.language import (
    DiDiInstruct,
    Discriminator,
    GrammarLanguage,
    Rollout,
    build_teacher,
    masked_entropy,
    masked_kl,
)
from fewstep.domains.language.teacher import time_grid
from fewstep.errors import ConfigError
from fewstep.samplers import MaskedAncestralSampler, subs_log_probs


def test_grouped_normalisation_has_zero_mean_and_unit_spread_per_group():
    rewards = torch.randn(32, dtype=torch.float64) * 5 + 3
    adv = grouped_advantage(rewards, group_size=4, clip=100.0).reshape(8, 4)
    torch.testing.assert_close(adv.mean(dim=1), torch.zeros(8, dtype=torch.float64), atol=1e-9, rtol=0)
    torch.testing.assert_close(adv.std(dim=1), torch.ones(8, dtype=torch.float64), atol=1e-6, rtol=0)


def test_discriminator_optimum_recovers_the_log_density_ratio():
    """Exact populations (token counts proportional to p and q): the BCE optimum is logit = log p / q."""
    torch.manual_seed(0)
    counts_p, counts_q = torch.tensor([40, 30, 15, 10, 5]), torch.tensor([10, 15, 20, 25, 30])
    model, _ = build_teacher(5, 1, width=16, depth=1, heads=2)
    disc = Discriminator.from_teacher(model, trainable_blocks=1)
    real = torch.arange(5).repeat_interleave(counts_p)[:, None]  # (100, 1): one token per sequence
    fake = torch.arange(5).repeat_interleave(counts_q)[:, None]
    everywhere = torch.ones(100, 1, dtype=torch.bool)
    opt = torch.optim.Adam([w for w in disc.parameters() if w.requires_grad], lr=5e-2)
    for _ in range(60):
        loss = discriminator_loss(disc(real, torch.zeros(100)), disc(fake, torch.zeros(100)), everywhere,
                                  everywhere, smoothing=0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    logits = disc(torch.arange(5)[:, None], torch.zeros(5))[:, 0].detach()
    torch.testing.assert_close(logits, (counts_p / counts_q).log().float(), atol=0.1, rtol=0)


def test_regularisers_vanish_and_peak_where_expected():
    lp = torch.randn(2, 3, 5).log_softmax(-1)
    masked = torch.ones(2, 3, dtype=torch.bool)
    assert masked_kl(lp, lp, masked).abs() < 1e-6
    uniform = torch.full((2, 3, 5), -math.log(5))
    assert math.isclose(masked_entropy(uniform, masked).item(), math.log(5), rel_tol=1e-6)
    with_inf = lp.clone()
    with_inf[..., -1] = float("-inf")
    student = with_inf.clone().requires_grad_(True)
    masked_kl(with_inf, student, masked).backward()
    assert torch.isfinite(student.grad).all()


@pytest.mark.parametrize("intermediate,grouped", [(True, True), (False, True), (True, False)])
def test_one_didi_step_updates_student_and_discriminator(intermediate, grouped):
    torch.manual_seed(0)
    model, path = build_teacher(6, 8, width=16, depth=2, heads=2)
    didi = DiDiInstruct(model, path, intermediate=intermediate, grouped=grouped, disc_blocks=1)
    before = {k: v.clone() for k, v in didi.student.state_dict().items()}
    real = torch.randint(6, (8, 8))
    opts = make_optimizers(didi, {"student": 1e-3, "discriminator": 1e-3})
    metrics = distillation_step(didi, opts, real, 0, torch.Generator().manual_seed(0))
    assert all(math.isfinite(v) for v in metrics.values())
    assert {"student/reward", "student/kl", "student/entropy", "discriminator/accuracy"} <= set(metrics)
    assert any(not torch.equal(before[k], v) for k, v in didi.student.state_dict().items())
    assert all(not p.requires_grad for p in didi.teacher.parameters())
    out = didi.generate(path.prior((4, 8)), 4, generator=torch.Generator().manual_seed(0))
    assert out.x0.shape == (4, 8) and not (out.x0 == path.mask_id).any()


def test_discriminator_warmup_holds_the_student_for_its_steps():
    torch.manual_seed(0)
    model, path = build_teacher(6, 8, width=16, depth=1, heads=2)
    didi = DiDiInstruct(model, path, disc_blocks=1, disc_warmup=2)
    opts = make_optimizers(didi, {"student": 1e-3, "discriminator": 1e-3})
    start = {k: v.clone() for k, v in didi.student.state_dict().items()}
    for step in range(3):
        metrics = distillation_step(didi, opts, torch.randint(6, (8, 8)), step, torch.Generator().manual_seed(step))
        moved = any(not torch.equal(start[k], v) for k, v in didi.student.state_dict().items())
        assert moved == (step == 2) and ("student/loss" in metrics) == (step == 2)
    assert int(didi.disc_updates) == 3
    with pytest.raises(ConfigError, match="disc_warmup"):
        DiDiInstruct(model, path, disc_blocks=1, disc_warmup=-1)


def test_didi_rejects_batches_that_do_not_fill_groups():
    model, path = build_teacher(6, 8, width=16, depth=1, heads=2)
    didi = DiDiInstruct(model, path, disc_blocks=1)
    with pytest.raises(ConfigError, match="group_size"):
        didi.loss("student", torch.randint(6, (6, 8)), 0, None)
    with pytest.raises(ConfigError, match="integer batch"):
        didi.loss("student", torch.randn(8, 8), 0, None)


def test_student_reward_is_the_mean_over_reward_samples_corruptions():
    torch.manual_seed(0)
    model, path = build_teacher(6, 8, width=16, depth=1, heads=2)
    didi = DiDiInstruct(model, path, disc_blocks=1, reward_samples=3)
    scored = []
    didi.discriminator.register_forward_hook(lambda module, args, out: scored.append(out.shape[0]))
    out = didi.loss("student", torch.randint(6, (8, 8)), 0, torch.Generator().manual_seed(0))
    assert scored == [8, 8, 8]  # three corruptions of the 8 student samples
    replay = torch.Generator().manual_seed(0)
    with torch.no_grad():
        roll = didi.rollout(8, 8, replay)
        draws = torch.stack([didi._reward(roll.x, roll.tau, replay) for _ in range(3)])
    assert not torch.allclose(draws[0], draws[1])  # the corruptions differ
    assert torch.allclose(out.metrics["reward"], draws.mean(), rtol=1e-3)  # spectral norm steps in train mode
    with pytest.raises(ConfigError, match="reward_samples"):
        DiDiInstruct(model, path, disc_blocks=1, reward_samples=0)


@pytest.mark.parametrize("order", ["random", "strided"])
def test_chain_rollout_is_the_samplers_chain_with_its_exact_log_likelihood(order):
    """rollout_steps = K draws what the core ancestral sampler draws with the same generator (in either reveal
    order), and log_p is the mean log p_nu of each token at the step that revealed it."""
    torch.manual_seed(0)
    model, path = build_teacher(6, 8, width=16, depth=1, heads=2)
    didi = DiDiInstruct(model, path, disc_blocks=1, rollout_steps=3, order=order)
    roll = didi.rollout(5, 8, torch.Generator().manual_seed(7))
    sampler = MaskedAncestralSampler(path, cache=False, order=order)
    out = sampler.sample(didi.student, path.prior((5, 8)), time_grid(3), keep_trajectory=True,
                         generator=torch.Generator().manual_seed(7))
    assert torch.equal(roll.x, out.x0) and not (roll.x == path.mask_id).any()
    expected = torch.zeros(5, 8)
    with torch.no_grad():
        for t_cur, z_prev, z_next in zip(time_grid(3)[:-1], (path.prior((5, 8)), *out.trajectory[:-1]), out.trajectory):
            log_probs = subs_log_probs(didi.student(z_prev, t_cur.float().expand(5)), z_prev, path.mask_id)
            revealed = (z_prev == path.mask_id) & (z_next != path.mask_id)
            expected += torch.where(revealed, log_probs.gather(-1, z_next.unsqueeze(-1)).squeeze(-1), 0.0)
    torch.testing.assert_close(roll.log_p.detach(), expected.mean(dim=1))
    roll.log_p.sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in didi.student.parameters())
    with pytest.raises(ConfigError, match="rollout_steps"):
        DiDiInstruct(model, path, disc_blocks=1, rollout_steps=0)
    with pytest.raises(ConfigError, match="order"):
        DiDiInstruct(model, path, disc_blocks=1, rollout_steps=3, order="confidence")
    with pytest.raises(ConfigError, match="needs rollout_steps"):
        DiDiInstruct(model, path, disc_blocks=1, order="strided")


def test_all_positions_discriminator_scores_a_wrong_transition_between_visible_tokens():
    """Fakes are real grammar sequences with one transition broken. Trained on every position, the discriminator
    scores the broken ones lower with nothing masked; the paper's masked-token reward has nothing to read there."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    lang = GrammarLanguage(vocab_size=6, seq_len=8, successors=2, seed=0)
    real = lang.sample(512, gen)
    fake, rows = real.clone(), torch.arange(512)
    where = torch.randint(1, 8, (512,), generator=gen)
    fake[rows, where] = (~lang.allowed[real[rows, where - 1]]).int().argmax(dim=1)  # a forbidden successor
    assert not lang.is_valid(fake).any()
    model, path = build_teacher(6, 8, width=32, depth=2, heads=2)
    didi = DiDiInstruct(model, path, disc_blocks=2, tau_beta=(1, 4), disc_positions="all")
    batch = {}
    didi.rollout = lambda b, n, generator, regularise=True: Rollout(  # the discriminator's fakes: broken reals
        fake[batch["idx"]], torch.zeros(b), didi._times(b, generator), torch.zeros(()), torch.zeros(()))
    opt = torch.optim.Adam([w for w in didi.discriminator.parameters() if w.requires_grad], lr=3e-3)
    for _ in range(80):
        batch["idx"] = torch.randint(0, 512, (64,), generator=gen)
        loss = didi.loss("discriminator", real[batch["idx"]], 0, gen).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    didi.eval()
    visible = torch.zeros(512)  # t = 0: nothing masked
    with torch.no_grad():
        margin = (didi._reward(real, visible, gen) - didi._reward(fake, visible, gen)).mean()
        didi.disc_positions = "masked"
        masked_reward = didi._reward(fake, visible, gen)
    assert margin > 1.0
    assert torch.equal(masked_reward, torch.zeros(512))
    with pytest.raises(ConfigError, match="disc_positions"):
        DiDiInstruct(model, path, disc_blocks=1, disc_positions="visible")
