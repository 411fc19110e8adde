import math

import pytest
import torch

from fewstep.distillers.scm import SCM, VelocityAsTrigFlow, time_derivative
from fewstep.distillers.training import fit_distiller
from fewstep.errors import ConfigError
from fewstep.parametrizations import TrigFlowPreconditioner
from fewstep.paths import CosinePath, LinearPath, TrigFlowPath


def _smooth_fn():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 3, generator=g, dtype=torch.float64)
    u = torch.randn(3, generator=g, dtype=torch.float64)
    return lambda x, s: torch.tanh(x @ w + s[:, None] * u) * s[:, None].cos()


def test_jvp_equals_finite_difference_float64():
    fn = _smooth_fn()
    x = torch.randn(5, 3, dtype=torch.float64)
    s = torch.rand(5, dtype=torch.float64)
    dx = torch.randn(5, 3, dtype=torch.float64)
    scale = s.cos() * s.sin()
    f1, d1 = time_derivative(fn, x, s, dx, scale=scale, mode="jvp")
    f2, d2 = time_derivative(fn, x, s, dx, scale=scale, mode="finite_difference", h=1e-5)
    torch.testing.assert_close(f1, f2)
    torch.testing.assert_close(d1, d2, atol=1e-4, rtol=0)


def test_student_jvp_through_mlp_matches_fd(mlp_teacher):
    student = SCM(mlp_teacher, LinearPath()).student
    x = torch.randn(4, 2, dtype=torch.float64)
    s = torch.full((4,), 0.7, dtype=torch.float64)

    def fn(x, s):
        return student.raw(x, s / (math.pi / 2))

    _, d1 = time_derivative(fn, x, s, torch.ones_like(x), mode="jvp")
    _, d2 = time_derivative(fn, x, s, torch.ones_like(x), mode="finite_difference", h=1e-3)
    # time embeddings run in float32 (sCM Sec. 4.1), so the match is to float32 precision
    torch.testing.assert_close(d1, d2, atol=2e-2, rtol=2e-2)


def test_trigflow_view_of_exact_teacher_matches_trigflow_velocity(exact_teacher, gaussian):
    sd = 0.5
    view = VelocityAsTrigFlow(exact_teacher, sd)
    trig = TrigFlowPath(sd)
    t = torch.full((6,), 0.4, dtype=torch.float64)
    x_t = trig.sample(gaussian.sample(6), torch.randn(6, 2, dtype=torch.float64), t).x_t
    expected = gaussian.velocity(trig, x_t, t) / (math.pi / 2) / sd  # dx/ds / sigma_d
    torch.testing.assert_close(view(x_t / sd, t * math.pi / 2), expected)


def test_boundary_condition_and_bad_path(mlp_teacher):
    scm = SCM(mlp_teacher, LinearPath())
    x = torch.randn(3, 2, dtype=torch.float64)
    assert torch.equal(scm.student(x, torch.zeros(3, dtype=torch.float64)), x)
    with pytest.raises(ConfigError):
        SCM(mlp_teacher, CosinePath())


@pytest.mark.parametrize("mode", ["finite_difference"])
def test_scm_learns_towards_gaussian(exact_teacher, gaussian, make_mlp, mode):
    scm = SCM(exact_teacher, LinearPath(), derivative=mode, tangent_warmup=50)
    scm.student = TrigFlowPreconditioner(VelocityAsTrigFlow(make_mlp(seed=5, width=32).float(), 0.5),
                                         scm.student_path)
    noise = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))

    def error() -> float:
        with torch.no_grad():
            x = scm.generate(noise, 1).x0.double()
        return (x.mean(0) - gaussian.mean).norm().item()

    before = error()
    hist = fit_distiller(scm, lambda n, g: gaussian.sample(n, g).float(), steps=150, batch_size=64, lr=1e-3,
                         progress=False, betas=(0.9, 0.99))
    assert all(math.isfinite(h["student/loss"]) for h in hist) and "student/tangent_rms" in hist[0]
    assert error() < 0.5 * before
