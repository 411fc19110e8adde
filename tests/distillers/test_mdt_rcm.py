import copy

import pytest
import torch

from fewstep.distillers.dmd import score_distillation_loss
from fewstep.distillers.mdt import MDTDistillation, velocity_distillation_loss
from fewstep.distillers.rcm import RCM
from fewstep.distillers.training import fit_distiller
from fewstep.paths import LinearPath


def _grads(loss, params):
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)])


def test_vd_gradient_equals_dmd_form(mlp_teacher, make_mlp):
    """VD's gradient is the DMD surrogate's with g = (2 / t)(x0_fake - x0_real), the student being its
    own fake score: x0 = x_t - t u."""
    student = make_mlp(seed=3)
    params = list(student.parameters())
    g = torch.Generator().manual_seed(0)
    noise, eps = torch.randn(2, 16, 2, generator=g, dtype=torch.float64)
    t = torch.rand(16, generator=g, dtype=torch.float64) * 0.9 + 0.05
    vd = velocity_distillation_loss(student, mlp_teacher, noise, t, eps).mean()
    one = torch.ones(16, dtype=torch.float64)
    x_hat = noise - student(noise, one)
    with torch.no_grad():
        x_t = (1 - t[:, None]) * x_hat + t[:, None] * eps
        x0_fake = x_t - t[:, None] * student(x_t, t)
        x0_real = x_t - t[:, None] * mlp_teacher(x_t, t)
    dmd_form = score_distillation_loss(x_hat, (2 / t[:, None]) * (x0_fake - x0_real)).mean()
    torch.testing.assert_close(_grads(vd, params), _grads(dmd_form, params))


@pytest.mark.parametrize("derivative", [None, "jvp"])
def test_mdt_loss_is_sum_of_terms_and_learns(exact_teacher, gaussian, make_mlp, derivative):
    mdt = MDTDistillation(exact_teacher, LinearPath(), make_mlp(seed=1, width=32).float(),
                          derivative=derivative)
    x0 = gaussian.sample(32).float()
    out = mdt.loss("student", x0, 0, torch.Generator().manual_seed(0))
    vm = mdt.velocity_matching(x0, 0, torch.Generator().manual_seed(0))
    assert out.metrics["vm/loss"] == vm.loss.detach()
    torch.testing.assert_close(out.loss, out.metrics["vm/loss"] + out.metrics["vd/loss"])
    if derivative is not None:
        return  # the learning check runs once, on the discrete variant (the configs' default)
    noise = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))

    def error() -> float:
        with torch.no_grad():
            return (mdt.generate(noise, 1).x0.double().mean(0) - gaussian.mean).norm().item()

    before = error()
    fit_distiller(mdt, lambda n, g: gaussian.sample(n, g).float(), steps=100, batch_size=64, lr=3e-3,
                  progress=False, betas=(0.9, 0.99))
    assert error() < 0.5 * before


def test_rcm_is_weighted_sum_of_scm_and_dmd(mlp_teacher):
    rcm = RCM(mlp_teacher, LinearPath(), scm_weight=2.0, dmd_weight=0.5, tangent_warmup=10)
    x0 = torch.randn(16, 2, dtype=torch.float64)
    out = rcm.loss("student", x0, 3, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.loss, 2.0 * out.metrics["scm/loss"] + 0.5 * out.metrics["dmd/loss"])
    g = torch.Generator().manual_seed(0)
    scm_alone = rcm.scm.student_loss(x0, 3, g)
    assert torch.equal(scm_alone.loss.detach(), out.metrics["scm/loss"])
    assert "dmd/fake_real_gap" in out.metrics and "scm/tangent_rms" in out.metrics
    assert rcm.dmd.student is rcm.scm.student
    fake = rcm.loss("fake_score", x0, 0, None)
    assert torch.isfinite(fake.loss)
    copy.deepcopy(rcm)  # modules stay copyable (checkpointing)
