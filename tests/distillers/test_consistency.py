import pytest
import torch

from fewstep.distillers.base import x0_student
from fewstep.distillers.consistency import ConsistencyDistillation, consistency_distance
from fewstep.distillers.training import fit_distiller
from fewstep.errors import ConfigError
from fewstep.parametrizations import ConsistencyPreconditioner
from fewstep.paths import CosinePath, LinearPath


def test_boundary_condition_exact_for_both_students(mlp_teacher, make_mlp):
    x = torch.randn(6, 2, dtype=torch.float64)
    zero = torch.zeros(6, dtype=torch.float64)
    cd = ConsistencyDistillation(mlp_teacher, LinearPath())
    assert torch.equal(cd.student(x, zero), x)
    precond = ConsistencyPreconditioner(make_mlp(seed=1), CosinePath())
    assert torch.equal(precond(x, zero), x)


def test_loss_uses_preconditioned_student_and_distances(mlp_teacher, make_mlp):
    path = CosinePath()
    student = ConsistencyPreconditioner(make_mlp(seed=1), path)
    for distance in ("l2", "pseudo_huber"):
        cd = ConsistencyDistillation(mlp_teacher, path, student, grid_steps=8, distance=distance,
                                     ema_beta=0.9)
        out = cd.loss("student", torch.randn(16, 2, dtype=torch.float64), 0, torch.Generator().manual_seed(0))
        assert out.per_sample.shape == (16,) and torch.isfinite(out.loss)
        out.loss.backward()
    a = torch.zeros(3, 4)
    assert torch.equal(consistency_distance(a, a, "pseudo_huber"), torch.zeros(3))


def test_exact_consistency_function_has_near_zero_loss(exact_teacher, gaussian):
    """The exact flow map to t = 0 of Gaussian data is a perfect consistency function: its CD loss is
    only the teacher's Heun error, far below that of a one-step Euler student."""
    path = LinearPath()

    class ExactStudent(torch.nn.Module):
        def forward(self, x_t, t):
            out = torch.empty_like(x_t)
            for value in t.unique():
                rows = t == value
                out[rows] = gaussian.flow_map(path, x_t[rows], float(value), 0.0)
            return out

    x0 = gaussian.sample(256, torch.Generator().manual_seed(0))
    exact = ConsistencyDistillation(exact_teacher, path, ExactStudent(), grid_steps=16)
    euler = ConsistencyDistillation(exact_teacher, path, grid_steps=16)
    loss_exact = exact.loss("student", x0, 0, torch.Generator().manual_seed(1)).loss.item()
    loss_euler = euler.loss("student", x0, 0, torch.Generator().manual_seed(1)).loss.item()
    assert loss_exact < 1e-6 and loss_euler > 100 * loss_exact


def test_bad_config(make_mlp):
    with pytest.raises(ConfigError):
        ConsistencyDistillation(make_mlp(), LinearPath(), grid_steps=10, segments=3)
    with pytest.raises(ConfigError):
        ConsistencyDistillation(make_mlp(), LinearPath()).loss("student", None, 0, None)


@pytest.mark.parametrize("segments", [1, 2])
def test_cd_learns_gaussian(exact_teacher, gaussian, segments, make_mlp):
    path = LinearPath()
    student = x0_student(make_mlp(seed=3, width=32).float(), path)
    cd = ConsistencyDistillation(exact_teacher, path, student, grid_steps=8, segments=segments, ema_beta=0.0,
                                 solver="euler")
    noise = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))

    def error() -> float:
        with torch.no_grad():
            x = cd.generate(noise, segments).x0
        x = x.double()
        return ((x.mean(0) - gaussian.mean).norm() + (torch.cov(x.T) - gaussian.cov).norm()).item()

    before = error()
    fit_distiller(cd, lambda n, g: gaussian.sample(n, g).float(), steps=100, batch_size=64, lr=3e-3,
                  progress=False,
                  betas=(0.9, 0.999))
    assert cd.generate(noise, segments).nfe == segments
    assert error() < 0.5 * before
