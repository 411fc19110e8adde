import copy

import pytest
import torch
from torch import nn

from fewstep.distillers.dmd import DMD, RewardWeight, dmd_gradient
from fewstep.distillers.sid import SiD
from fewstep.distillers.training import fit_distiller
from fewstep.errors import ShapeError
from fewstep.paths import LinearPath
from fewstep.samplers import uniform_grid


def _student_grads(distiller, x0):
    distiller.student.zero_grad()
    out = distiller.loss("student", x0, 0, torch.Generator().manual_seed(0))
    out.loss.backward()
    return torch.cat([p.grad.flatten() for p in distiller.student.parameters() if p.grad is not None]), out


@pytest.mark.parametrize("cls", [DMD, SiD])
def test_generator_gradient_zero_when_fake_equals_real(cls, mlp_teacher):
    d = cls(mlp_teacher, LinearPath(), fake_score=copy.deepcopy(mlp_teacher),
            generator_grid=uniform_grid(2))
    grads, out = _student_grads(d, torch.randn(32, 2, dtype=torch.float64))
    assert grads.numel() > 0 and grads.abs().max().item() < 1e-12
    assert out.metrics["fake_real_gap"].item() < 1e-12


@pytest.mark.parametrize("cls", [DMD, SiD])
def test_generator_gradient_nonzero_with_other_fake(cls, mlp_teacher, make_mlp):
    d = cls(mlp_teacher, LinearPath(), fake_score=make_mlp(seed=7))
    grads, _ = _student_grads(d, torch.randn(32, 2, dtype=torch.float64))
    assert grads.abs().max().item() > 1e-6


def test_dmd_gradient_direction():
    x = torch.zeros(2, 3)
    real, fake = torch.ones(2, 3), torch.full((2, 3), 2.0)
    torch.testing.assert_close(dmd_gradient(x, real, fake), torch.ones(2, 3))


def test_reward_weight_and_re_dmd_scaling(mlp_teacher):
    reward = RewardWeight(lambda x: x[:, 0], beta=2.0)
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
    w = reward(x)
    torch.testing.assert_close(w.log() / 2, torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64))
    with pytest.raises(ShapeError):
        RewardWeight(lambda x: x)(x)
    x0 = torch.randn(16, 2, dtype=torch.float64)
    plain = DMD(mlp_teacher, LinearPath())
    tilted = DMD(mlp_teacher, LinearPath(), weight_fn=lambda x: torch.full((x.shape[0],), 3.0, dtype=x.dtype))
    tilted.load_state_dict(plain.state_dict())
    a = plain.loss("student", x0, 0, torch.Generator().manual_seed(1))
    b = tilted.loss("student", x0, 0, torch.Generator().manual_seed(1))
    torch.testing.assert_close(b.loss, 3 * a.loss)


class _Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1).double()

    def forward(self, x, t):
        return self.lin(torch.cat([x, t[:, None]], dim=1))


def test_gan_head_losses_and_nan_masking(mlp_teacher):
    d = DMD(mlp_teacher, LinearPath(), discriminator=_Head())
    x0 = torch.randn(8, 2, dtype=torch.float64)
    crit = d.loss("fake_score", x0, 0, None)
    gen = d.loss("student", x0, 0, None)
    assert "gan_critic" in crit.metrics and "gan_generator" in gen.metrics
    sid = SiD(mlp_teacher, LinearPath())
    x = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    bad = torch.cat([x[:3], torch.full((1, 2), float("nan"), dtype=torch.float64)])
    out = sid.generator_loss(bad, None)
    assert torch.isfinite(out.loss) and out.metrics["nan_masked"].item() == pytest.approx(0.25)
    out.loss.backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("cls", [DMD, SiD])
def test_learns_towards_gaussian(cls, exact_teacher, gaussian, make_mlp):
    """A fresh one-step generator moves its samples' mean towards the data under DMD / SiD."""
    path = LinearPath()
    from fewstep.distillers.base import x0_student

    d = cls(exact_teacher, path, student=x0_student(make_mlp(seed=2, width=32).float(), path),
            fake_score=make_mlp(seed=4, width=32).float(), student_every=1)
    noise = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))

    def error() -> float:
        with torch.no_grad():
            return (d.generate(noise, 1).x0.double().mean(0) - gaussian.mean).norm().item()

    before = error()
    fit_distiller(d, lambda n, g: gaussian.sample(n, g).float(), steps=100, batch_size=64, lr=2e-3,
                  progress=False)
    assert error() < 0.5 * before


def test_fit_distiller_student_ema_lags_the_raw_generator(exact_teacher, gaussian, make_mlp):
    """student_ema=0 keeps the last weights exactly; a slow EMA stays closer to the initial generator."""
    from fewstep.distillers.base import x0_student

    path = LinearPath()

    def distil(student_ema: float | None) -> tuple[torch.Tensor, torch.Tensor]:
        d = SiD(exact_teacher, path, student=x0_student(make_mlp(seed=2, width=32).float(), path),
                fake_score=make_mlp(seed=4, width=32).float())
        initial = torch.cat([p.detach().flatten().clone() for p in d.student.parameters()])
        fit_distiller(d, lambda n, g: gaussian.sample(n, g).float(), steps=20, batch_size=32, lr=2e-3,
                      student_ema=student_ema, progress=False)
        return initial, torch.cat([p.detach().flatten() for p in d.student.parameters()])

    initial, raw = distil(None)
    torch.testing.assert_close(distil(0.0)[1], raw, rtol=0, atol=0)
    smoothed = distil(0.95)[1]
    assert (smoothed - raw).norm() > 0.01 * (raw - initial).norm()  # the EMA is not the last iterate
    assert (smoothed - initial).norm() < (raw - initial).norm()  # and it trails the generator's drift
