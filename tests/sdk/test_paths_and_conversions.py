import pytest
import torch

from fewstep.errors import ConfigError, ShapeError, TimeDomainError
from fewstep.parametrizations import Prediction, convert_prediction
from fewstep.paths import (
    CosinePath,
    EDMPath,
    LinearPath,
    TrigFlowPath,
    edm_sigma_to_t,
    flip_time,
    rf_t_to_trigflow_angle,
    shift_time,
    t_from_log_snr,
    t_to_edm_sigma,
    t_to_trigflow_angle,
    trigflow_angle_to_t,
    ve_sigma,
)

PATHS = [LinearPath(), CosinePath(), TrigFlowPath(0.5), EDMPath()]


@pytest.mark.parametrize("path", PATHS, ids=repr)
def test_velocity_is_time_derivative_of_x_t(path):
    x0, eps = torch.randn(2, 8, 3, dtype=torch.float64)
    t = torch.rand(8, dtype=torch.float64) * 0.9 + 0.05
    h = 1e-6
    fd = (path.sample(x0, eps, t + h).x_t - path.sample(x0, eps, t - h).x_t) / (2 * h)
    torch.testing.assert_close(path.sample(x0, eps, t).velocity, fd, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("path", PATHS, ids=repr)
@pytest.mark.parametrize("source", list(Prediction))
@pytest.mark.parametrize("target", list(Prediction))
def test_prediction_conversions_round_trip(path, source, target):
    x0, eps = torch.randn(2, 16, 4, dtype=torch.float64)
    t = torch.rand(16, dtype=torch.float64) * 0.9 + 0.05
    ps = path.sample(x0, eps, t)
    truth = {Prediction.X0: x0, Prediction.EPSILON: eps, Prediction.VELOCITY: ps.velocity,
             Prediction.SCORE: -eps / path.sigma(t)[:, None]}
    out = convert_prediction(truth[source], source=source, target=target, x_t=ps.x_t, t=t, path=path)
    torch.testing.assert_close(out, truth[target], rtol=1e-5, atol=1e-5)
    back = convert_prediction(out, source=target, target=source, x_t=ps.x_t, t=t, path=path)
    torch.testing.assert_close(back, truth[source], rtol=1e-5, atol=1e-5)


def test_time_adapters_round_trip():
    t = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    torch.testing.assert_close(edm_sigma_to_t(t_to_edm_sigma(t)), t)
    torch.testing.assert_close(trigflow_angle_to_t(t_to_trigflow_angle(t)), t)
    torch.testing.assert_close(flip_time(flip_time(t)), t)
    for path in PATHS:
        torch.testing.assert_close(t_from_log_snr(path, path.log_snr(t)), t, rtol=1e-7, atol=1e-7)


def test_edm_sigma_range_and_rf_trigflow_snr_match():
    ends = t_to_edm_sigma(torch.tensor([0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(ends, torch.tensor([0.002, 80.0], dtype=torch.float64))
    t = torch.linspace(0.05, 0.95, 10, dtype=torch.float64)
    angle = rf_t_to_trigflow_angle(t, sigma_data=0.5)
    trig = TrigFlowPath(0.5)
    torch.testing.assert_close(ve_sigma(trig, angle * 2 / torch.pi), ve_sigma(LinearPath(), t))


def test_shift_moves_times_towards_noise():
    t = torch.linspace(0.1, 0.9, 9, dtype=torch.float64)
    assert bool((shift_time(t, 3.0) > t).all())
    torch.testing.assert_close(shift_time(t, 1.0), t)


def test_bad_inputs_name_the_problem():
    with pytest.raises(TimeDomainError, match=r"t must lie in \[0, 1\]"):
        LinearPath().sample(torch.zeros(2, 3), torch.zeros(2, 3), torch.tensor([0.5, 1.5]))
    with pytest.raises(ShapeError, match="x0=.*eps="):
        LinearPath().sample(torch.zeros(2, 3), torch.zeros(2, 4), torch.tensor([0.5, 0.5]))
    with pytest.raises(ConfigError, match="sigma_max must exceed sigma_min"):
        EDMPath(sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ConfigError, match="source must be one of"):
        convert_prediction(torch.zeros(1, 2), source="noise", target="x0", x_t=torch.zeros(1, 2),
                           t=torch.tensor([0.5]), path=LinearPath())
