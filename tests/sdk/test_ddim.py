import torch

from fewstep.analytic import GaussianData
from fewstep.objectives import DDPM_T_MAX, EpsilonMatching
from fewstep.parametrizations import Prediction, convert_prediction
from fewstep.paths import CosinePath
from fewstep.samplers import DDIMSampler, uniform_grid


def test_ddim_with_the_exact_epsilon_recovers_the_data_distribution():
    data = GaussianData(torch.tensor([0.3, -0.2], dtype=torch.float64), 0.04 * torch.eye(2, dtype=torch.float64))
    path = CosinePath()

    def eps_model(x, t):
        return convert_prediction(data.velocity(path, x, t), source=Prediction.VELOCITY, target=Prediction.EPSILON,
                                  x_t=x, t=t, path=path)

    noise = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    grid = uniform_grid(100, t_start=DDPM_T_MAX)
    for eta in (0.0, 1.0):
        out = DDIMSampler(path, eta=eta, clip=None).sample(eps_model, noise, grid,
                                                           generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(out.x0.mean(0), data.mean, atol=0.02, rtol=0)
        torch.testing.assert_close(out.x0.std(0), torch.full((2,), 0.2, dtype=torch.float64), atol=0.02, rtol=0)


def test_epsilon_matching_prefers_the_exact_epsilon():
    data = GaussianData(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    path = CosinePath()

    def eps_model(scale):
        return lambda x, t: scale * convert_prediction(data.velocity(path, x, t), source=Prediction.VELOCITY,
                                                       target=Prediction.EPSILON, x_t=x, t=t, path=path)

    x0 = data.sample(4000, torch.Generator().manual_seed(0))
    exact = EpsilonMatching(path)(eps_model(1.0), x0, generator=torch.Generator().manual_seed(1)).loss
    off = EpsilonMatching(path)(eps_model(0.8), x0, generator=torch.Generator().manual_seed(1)).loss
    assert exact < off
