"""The teacher network, the SiD distiller on it, and the zero-update property of the SiD generator loss."""

from dataclasses import replace

import pytest
import torch

from fewstep.distillers import fit_distiller, sid_generator_loss
from fewstep.domains.protein import (
    BackboneSet,
    ProteinaConfig,
    ProteinaMini,
    ProteinSiD,
    generator_grid,
    procedural_backbones,
    sample_student,
    sample_teacher,
)
from fewstep.domains.protein.distill import log_grid_times
from fewstep.errors import ConfigError, ShapeError
from fewstep.guidance import CFGModel
from fewstep.hub import from_pretrained, save_pretrained
from fewstep.objectives import BetaMixtureTime, FlowMatching
from fewstep.paths import LinearPath
from fewstep.train import fit_teacher

TINY = ProteinaConfig(width=16, depth=1, heads=2, pair_dim=8, distance_bins=8, max_separation=4)


def test_shapes_self_conditioning_and_pretrained_round_trip(tmp_path):
    model = ProteinaMini(TINY)
    y, t = torch.randn(2, 15, 3), torch.rand(2)
    model.train()
    assert model(y, t).shape == (2, 15, 3)
    model.eval()
    assert model(y, t, x_sc=torch.randn(2, 15, 3)).shape == (2, 15, 3)
    full = ProteinaMini(ProteinaConfig(width=16, depth=1, heads=2, reduced_coordinates=False))
    assert full(torch.randn(2, 16, 3), t).shape == (2, 16, 3)
    loaded = from_pretrained(save_pretrained(model, tmp_path / "m"))
    torch.testing.assert_close(loaded(y, t), model(y, t))
    with pytest.raises(ShapeError):
        model(torch.randn(2, 15, 2), t)
    with pytest.raises(ConfigError):
        ProteinaConfig(width=15, heads=2)


def test_fold_conditioning_with_classifier_free_guidance():
    model = ProteinaMini(ProteinaConfig(width=16, depth=1, heads=2, num_folds=5)).eval()
    torch.nn.init.normal_(model.out.weight, std=0.1)
    y, t = torch.randn(2, 9, 3), torch.full((2,), 0.5)
    fold, null = torch.tensor([1, 3]), torch.full((2,), 5)
    guided = CFGModel(model, 2.0, {"fold": fold}, {"fold": null})
    cond, uncond = model(y, t, fold=fold), model(y, t, fold=null)
    torch.testing.assert_close(guided(y, t), uncond + 2.0 * (cond - uncond))
    with pytest.raises(ConfigError):
        ProteinaMini(TINY)(y, t, fold=fold)


def test_teacher_learns_and_samples_centred_backbones():
    data = BackboneSet.from_procedural(procedural_backbones(16, lengths=(16,), seed=0))
    objective = FlowMatching(LinearPath(), BetaMixtureTime())
    teacher, losses = fit_teacher(objective, ProteinaMini(TINY), data.sample_batch, steps=30, batch_size=8, lr=3e-3,
                                  progress=False)
    assert sum(losses[-5:]) < sum(losses[:5])
    g = torch.Generator().manual_seed(0)
    for gamma in (0.45, None):
        x = sample_teacher(teacher, 2, 16, nfe=8, gamma=gamma, generator=g)
        assert x.shape == (2, 16, 3) and torch.isfinite(x).all()
        assert x.mean(dim=1).abs().max() < 1e-4


def test_sid_generator_update_is_zero_when_fake_equals_teacher():
    torch.manual_seed(0)
    x_g = torch.randn(4, 9, 3, requires_grad=True)
    x_t = 0.6 * x_g + 0.4 * torch.randn(4, 9, 3)  # the gradient reaches x_g through x_t in both networks

    def score(x):
        return torch.tanh(x) * 0.5

    loss = sid_generator_loss(x_g, score(x_t), score(x_t), alpha=1.0).sum()
    (grad,) = torch.autograd.grad(loss, [x_g])
    assert grad.abs().max() == 0
    # end to end: a freshly built ProteinSiD has fake score == teacher, so the generator gradient vanishes
    teacher = ProteinaMini(TINY).eval()
    torch.nn.init.normal_(teacher.out.weight, std=0.1)
    sid = ProteinSiD(teacher, steps=4)
    out = sid.loss("student", torch.zeros(3, 11, 3), 0, torch.Generator().manual_seed(0))
    out.loss.backward()
    grads = [p.grad for p in sid.student.parameters() if p.grad is not None]
    assert grads and max(g.abs().max().item() for g in grads) < 1e-7


def test_sid_trains_and_samples_on_the_teachers_log_grid():
    teacher = ProteinaMini(TINY).eval()
    sid = ProteinSiD(teacher, steps=4)
    grid = generator_grid(4)
    assert grid[0] == 1 and grid[-1] == 0 and torch.all(grid[1:] < grid[:-1])
    assert abs(grid[-2].item() - 0.01) < 1e-9  # s_K = 400: t = 10^-2
    data = BackboneSet.from_procedural(procedural_backbones(4, lengths=(12,), seed=0))
    history = fit_distiller(sid, data.sample_batch, steps=2, batch_size=2, lr=1e-4, progress=False)
    assert {"student/loss", "fake_score/loss"} <= set(history[-1])
    x = sample_student(sid.student, 3, 12, steps=4, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 12, 3) and x.mean(dim=1).abs().max() < 1e-4
    assert sid.generate(torch.randn(2, 11, 3), nfe=2).x0.shape == (2, 11, 3)


def test_sid_generator_times_lie_on_the_teachers_log_grid():
    t = log_grid_times(4000, torch.zeros(1), torch.Generator().manual_seed(0), t_min=0.02, t_max=0.98)
    assert t.shape == (4000,) and t.min() >= 0.02 and t.max() <= 0.98
    inside = t[(t > 0.02) & (t < 0.98)].double()
    s = -200 * torch.log10(inside)  # t = 10^{-2 s / 400}
    torch.testing.assert_close(s, s.round(), atol=1e-3, rtol=0)
    assert 0.4 < (t < 0.1).float().mean() < 0.6  # half of the draws resolve local geometry
    with pytest.raises(ConfigError, match="t_min"):
        log_grid_times(2, torch.zeros(1), None, t_min=0.5, t_max=0.1)


def test_sampler_target_is_a_fine_tuned_copy_and_leaves_the_teacher_alone():
    from fewstep.domains.protein.pipeline import TINY as TINY_SCALE
    from fewstep.domains.protein.pipeline import train_sampler_target

    torch.manual_seed(0)
    teacher = ProteinaMini(TINY_SCALE.model).eval().requires_grad_(False)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    target = train_sampler_target(teacher, replace(TINY_SCALE, target_steps=5, target_lr=1e-2))
    assert isinstance(target, ProteinaMini) and target is not teacher and not target.training
    for k, v in teacher.state_dict().items():
        torch.testing.assert_close(v, before[k])  # the teacher was not trained in place
    moved = max((target.state_dict()[k].float() - v.float()).abs().max().item() for k, v in before.items())
    assert moved > 1e-4
    assert train_sampler_target(teacher, replace(TINY_SCALE, target_gamma=None)) is teacher
    for bad in ({"target_gamma": 0.0}, {"target_samples": 0}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            train_sampler_target(teacher, replace(TINY_SCALE, **bad))
