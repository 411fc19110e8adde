"""Samplers against exact answers for Gaussian data (foundation acceptance 1)."""

import numpy as np
import pytest
import torch

from fewstep.analytic import GaussianData
from fewstep.errors import ConfigError, ShapeError
from fewstep.paths import CosinePath, EDMPath, LinearPath, MaskedPath, TrigFlowPath
from fewstep.samplers import (
    ConsistencySampler,
    DPMSolverPP2M,
    EulerSampler,
    HeunSampler,
    MaskedAncestralSampler,
    SDESampler,
    ancestral_step,
    reveal_positions,
    strided_positions,
    subs_log_probs,
    uniform_grid,
    unmask_probability,
)


def gaussian(dim: int, seed: int = 0) -> GaussianData:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(dim, dim, generator=g, dtype=torch.float64)
    return GaussianData(torch.randn(dim, generator=g, dtype=torch.float64), a @ a.T / dim + 0.1 * torch.eye(dim))


def start_points(data: GaussianData, path, n: int = 128) -> torch.Tensor:
    c = path.coefficients(torch.tensor(1.0, dtype=torch.float64))
    z = torch.randn(n, data.dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return c.alpha * data.mean + (z * (c.alpha**2 * data.eigvals + c.sigma**2).sqrt()) @ data.eigvecs.T


@pytest.mark.parametrize("dim", [2, 16])
@pytest.mark.parametrize("path", [LinearPath(), CosinePath(), TrigFlowPath(0.5), EDMPath()], ids=repr)
@pytest.mark.parametrize("sampler,order", [(EulerSampler(), 1), (HeunSampler(), 2)], ids=["euler", "heun"])
def test_global_error_falls_at_the_method_order(dim, path, sampler, order):
    data = gaussian(dim)
    x1 = start_points(data, path)
    exact = data.flow_map(path, x1, 1.0, 0.0)
    steps = [32, 64, 128, 256] if isinstance(path, EDMPath) else [16, 32, 64, 128]
    errors = []
    for n in steps:
        out = sampler.sample(lambda x, t: data.velocity(path, x, t), x1, uniform_grid(n))
        errors.append((out.x0 - exact).norm(dim=1).mean().item())
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope + order) < 0.2, f"fitted slope {slope:.3f}, expected {-order}"


def test_dpm_solver_converges_faster_than_euler():
    data, path = gaussian(16), LinearPath()
    x1 = start_points(data, path)
    exact = data.flow_map(path, x1, 1.0, 0.0)
    grid = uniform_grid(10)
    euler = EulerSampler().sample(lambda x, t: data.velocity(path, x, t), x1, grid)
    dpm = DPMSolverPP2M(path).sample(lambda x, t: data.velocity(path, x, t), x1, grid)
    assert dpm.nfe == euler.nfe == 10
    assert (dpm.x0 - exact).norm(dim=1).mean() < 0.2 * (euler.x0 - exact).norm(dim=1).mean()


def test_sde_sampler_matches_marginal_moments_and_gamma_lowers_spread():
    data, path = gaussian(2), LinearPath()
    x1 = torch.randn(4000, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    velocity = lambda x, t: data.velocity(path, x, t)  # noqa: E731
    grid = uniform_grid(200)
    full = SDESampler(path, gamma=1.0).sample(velocity, x1, grid, generator=torch.Generator().manual_seed(4))
    cold = SDESampler(path, gamma=0.3).sample(velocity, x1, grid, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(full.x0.mean(0), data.mean, atol=0.1, rtol=0)
    torch.testing.assert_close(torch.cov(full.x0.T), data.cov, atol=0.15, rtol=0.1)
    assert torch.linalg.det(torch.cov(cold.x0.T)) < torch.linalg.det(torch.cov(full.x0.T))


def test_consistency_sampler_with_exact_flow_map_is_exact_in_one_step():
    data, path = gaussian(4), LinearPath()
    x1 = start_points(data, path)

    def consistency(x, t):
        return data.flow_map(path, x, float(t[0]), 0.0)

    out = ConsistencySampler(path).sample(consistency, x1, uniform_grid(1))
    torch.testing.assert_close(out.x0, data.flow_map(path, x1, 1.0, 0.0))
    two = ConsistencySampler(path).sample(consistency, x1, uniform_grid(2), generator=torch.Generator().manual_seed(0))
    assert two.nfe == 2 and two.x0.shape == x1.shape


def test_masked_sampler_unmasks_everything_and_caches_calls():
    path = MaskedPath(vocab_size=5)
    calls = []

    def model(z, t):
        calls.append(1)
        logits = torch.zeros(*z.shape, path.num_classes)
        logits[..., 2] = 5.0
        return logits

    out = MaskedAncestralSampler(path).sample(model, path.prior((3, 7)), uniform_grid(64),
                                              generator=torch.Generator().manual_seed(0))
    assert bool((out.x0 != path.mask_id).all()) and bool((out.x0 < 5).all())
    assert out.nfe == len(calls) < 64  # steps where nothing changed reuse the logits


def test_unmask_probability_follows_the_linear_schedule():
    path = MaskedPath(vocab_size=5)  # alpha_t = 1 - t: from t to s a masked token is revealed w.p. (t - s) / t
    assert unmask_probability(path, 1.0, 0.75) == pytest.approx(0.25)
    assert unmask_probability(path, torch.tensor(0.5), torch.tensor(0.25)) == pytest.approx(0.5)
    assert unmask_probability(path, 0.25, 0.0) == 1.0
    with pytest.raises(ConfigError, match="t_next < t_cur"):
        unmask_probability(path, 0.25, 0.5)


def test_ancestral_step_keeps_unmasked_tokens_and_reveals_everything_at_zero():
    path = MaskedPath(vocab_size=5)
    z = torch.tensor([[1, path.mask_id, 3, path.mask_id]])
    log_probs = subs_log_probs(torch.zeros(1, 4, path.num_classes), z, path.mask_id)
    half, revealed = ancestral_step(path, z, log_probs, 0.5, 0.25, torch.Generator().manual_seed(0))
    assert torch.equal(half[0, [0, 2]], z[0, [0, 2]]) and not revealed[0, [0, 2]].any()
    done, revealed = ancestral_step(path, z, log_probs, 0.25, 0.0, torch.Generator().manual_seed(0))
    assert bool(revealed[0, [1, 3]].all()) and not (done == path.mask_id).any()
    with pytest.raises(ShapeError, match="log_probs"):
        ancestral_step(path, z, log_probs[:, :3], 0.5, 0.25)


def test_strided_order_reveals_each_position_once_and_never_two_neighbours_together():
    steps, n = 8, 30
    plan = torch.stack([strided_positions(n, steps, k) for k in range(steps)])  # (steps, n)
    assert torch.equal(plan.sum(dim=0), torch.ones(n, dtype=torch.long))
    assert not (plan[:, 1:] & plan[:, :-1]).any()
    assert torch.equal(torch.stack([strided_positions(4, 6, k) for k in range(6)]).nonzero()[:, 1],
                       torch.arange(4))  # more steps than tokens: left to right
    with pytest.raises(ConfigError, match="step must be"):
        strided_positions(n, steps, steps)
    assert reveal_positions("random", n, steps, 3) is None
    assert torch.equal(reveal_positions("strided", n, steps, 3), plan[3])
    with pytest.raises(ConfigError, match="order must be one of"):
        reveal_positions("confidence", n, steps, 3)


def test_planned_step_reveals_exactly_the_planned_masked_positions():
    path = MaskedPath(vocab_size=5)
    m = path.mask_id
    z = torch.tensor([[1, m, m, m, 3, m]])
    log_probs = subs_log_probs(torch.zeros(1, 6, path.num_classes), z, m)
    plan = torch.tensor([True, True, False, True, True, False])
    out, revealed = ancestral_step(path, z, log_probs, 0.5, 0.25, torch.Generator().manual_seed(0), plan)
    assert revealed[0].tolist() == [False, True, False, True, False, False]
    assert torch.equal(out[0, [0, 4]], z[0, [0, 4]]) and bool((out[0, [1, 3]] < 5).all())
    done, _ = ancestral_step(path, out, log_probs, 0.25, 0.0, None, ~plan)  # s = 0 reveals every token left
    assert not (done == m).any()
    with pytest.raises(ShapeError, match="positions"):
        ancestral_step(path, z, log_probs, 0.5, 0.25, None, plan[:5])


def test_sampler_rejects_increasing_grid():
    with pytest.raises(ConfigError, match="strictly decreasing"):
        EulerSampler().sample(lambda x, t: x, torch.zeros(2, 2), torch.tensor([0.0, 1.0]))
