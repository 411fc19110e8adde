import pytest
import torch
from torch import nn

from fewstep.distillers.base import Update, backward_simulate, ddim_step, x0_student
from fewstep.distillers.terms import LossTerm, combine, evaluate_terms
from fewstep.distillers.training import distillation_step, make_optimizers
from fewstep.errors import ConfigError, NumericalError
from fewstep.objectives.base import ObjectiveOutput
from fewstep.paths import LinearPath
from fewstep.samplers import uniform_grid


def test_update_validates_ratio():
    with pytest.raises(ConfigError):
        Update("student", every=0)


def test_student_boundary_condition_exact(mlp_teacher):
    student = x0_student(mlp_teacher, LinearPath())
    x = torch.randn(5, 2, dtype=torch.float64)
    assert torch.equal(student(x, torch.zeros(5, dtype=torch.float64)), x)


def test_ddim_step_endpoints():
    path = LinearPath()
    x_t, x0 = torch.randn(2, 4, 3, dtype=torch.float64)
    t = torch.full((4,), 0.7, dtype=torch.float64)
    torch.testing.assert_close(ddim_step(x_t, x0, t, torch.zeros(4, dtype=torch.float64), path), x0)
    assert torch.equal(ddim_step(x_t, x0, t, t, path), x_t)


def test_backward_simulate_grad_only_on_last_step(mlp_teacher):
    path, student = LinearPath(), x0_student(mlp_teacher, LinearPath())
    out = backward_simulate(student, path, torch.randn(4, 2, dtype=torch.float64), uniform_grid(3), 2,
                            generator=torch.Generator().manual_seed(0))
    assert out.requires_grad and out.shape == (4, 2)
    with pytest.raises(ConfigError):
        backward_simulate(student, path, torch.randn(4, 2), uniform_grid(3), 3)


def _out(value: float, requires_grad: bool = False) -> ObjectiveOutput:
    loss = torch.tensor(value, requires_grad=requires_grad)
    return ObjectiveOutput(loss=loss, per_sample=loss.expand(3), metrics={"x": loss.detach()})


def test_combined_loss_is_weighted_sum_of_parts():
    terms = [LossTerm("a", 2.0, lambda x0, s, g: _out(1.5)), LossTerm("b", 0.5, lambda x0, s, g: _out(4.0)),
             LossTerm("c", 0.0, lambda x0, s, g: _out(float("nan")))]
    out = evaluate_terms(terms, None, 0, None)
    assert out.loss.item() == pytest.approx(2.0 * 1.5 + 0.5 * 4.0)
    torch.testing.assert_close(out.per_sample, torch.full((3,), 5.0))
    assert out.metrics["a/loss"].item() == 1.5 and out.metrics["b/loss"].item() == 4.0
    with pytest.raises(ConfigError):
        combine([("a", 1.0, _out(1.0)), ("a", 1.0, _out(1.0))])
    with pytest.raises(ConfigError):
        LossTerm("neg", -1.0, lambda x0, s, g: _out(1.0))


class _NaNDistiller(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(1, 1)

    def trainable(self):
        return {"student": self.net}

    def updates(self):
        return [Update("student")]

    def loss(self, network, x0, step, generator):
        loss = self.net.weight.sum() * float("nan")
        return ObjectiveOutput(loss=loss, per_sample=loss.expand(1))

    def after_update(self, network, step):
        pass


def test_distillation_step_raises_on_nan():
    d = _NaNDistiller()
    with pytest.raises(NumericalError):
        distillation_step(d, make_optimizers(d, 1e-3), None, 0, None)
