import pytest
import torch

from fewstep.distillers.discrete import (
    density_ratio_reward,
    discriminator_loss,
    grouped_advantage,
    integral_kl_loss,
    time_weight,
)
from fewstep.distillers.ditto import CheckpointedModel, ditto2, optimize_noise
from fewstep.errors import ConfigError, NumericalError
from fewstep.paths import MaskedPath
from fewstep.samplers import EulerSampler, uniform_grid


def test_score_function_gradient_equals_exact_kl_gradient():
    """With the exact log ratio as reward and the exact expectation over a 6-way categorical, the
    integral-KL surrogate's gradient is grad KL(p_nu || q)."""
    torch.manual_seed(0)
    nu = torch.randn(6, dtype=torch.float64, requires_grad=True)
    log_q = torch.randn(6, dtype=torch.float64).log_softmax(0)
    log_p = nu.log_softmax(0)
    kl = (log_p.exp() * (log_p - log_q)).sum()
    (exact,) = torch.autograd.grad(kl, nu, retain_graph=True)
    reward = (log_q - log_p).detach()  # log q_teacher / q_student, what the discriminator estimates
    weight = 6 * log_p.exp().detach()  # exact expectation written as a mean over the 6 outcomes
    (estimate,) = torch.autograd.grad(integral_kl_loss(log_p, reward, weight), nu)
    torch.testing.assert_close(estimate, exact)


def test_zero_gradient_when_student_is_teacher():
    nu = torch.randn(5, dtype=torch.float64, requires_grad=True)
    log_p = nu.log_softmax(0)
    (g,) = torch.autograd.grad(integral_kl_loss(log_p, torch.zeros(5, dtype=torch.float64),
                                                torch.ones(5, dtype=torch.float64)), nu)
    assert torch.equal(g, torch.zeros(5, dtype=torch.float64))


def test_grouped_advantage_is_normalised_and_affine_invariant():
    r = torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0, 10.5, 11.0, 30.0])
    a = grouped_advantage(r, 4)
    groups = a.reshape(2, 4)
    torch.testing.assert_close(groups.mean(1), torch.zeros(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(grouped_advantage(3 * r + 7, 4), a)
    assert grouped_advantage(torch.tensor([0.0, 0.0, 0.0, 100.0]), 4, clip=1.0).abs().max() <= 1.0
    with pytest.raises(ConfigError):
        grouped_advantage(r, 3)


def test_reward_averages_clipped_logits_over_masked_tokens_and_time_weight():
    logits = torch.tensor([[1.0, 20.0, -3.0], [2.0, 2.0, 2.0]])
    masked = torch.tensor([[True, True, False], [False, False, False]])
    torch.testing.assert_close(density_ratio_reward(logits, masked), torch.tensor([4.5, 0.0]))
    w = time_weight(MaskedPath(4), torch.tensor([0.01, 0.5, 1.0]))
    assert w[0].item() == 10.0 and w[1].item() == pytest.approx(2.0, rel=1e-3)
    m = torch.ones(2, 3, dtype=torch.bool)
    good = discriminator_loss(torch.full((2, 3), 5.0), torch.full((2, 3), -5.0), m, m)
    bad = discriminator_loss(torch.full((2, 3), -5.0), torch.full((2, 3), 5.0), m, m)
    assert good < bad


def test_ditto_monotone_on_convex_target_with_checkpointing(exact_teacher):
    """Through an Euler sampler on the exact Gaussian teacher x0 is affine in the noise, so
    ||x0 - y||^2 is convex: gradient descent lowers it at every step."""
    grid = uniform_grid(8)
    model = CheckpointedModel(exact_teacher)

    def decode(z):
        return EulerSampler().sample(model, z, grid).x0

    y = torch.tensor([[2.0, 1.0]], dtype=torch.float64).expand(4, 2)
    noise = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    result = optimize_noise(decode, lambda x: (x - y).square().sum(), noise, steps=15, lr=0.1,
                            optimizer="sgd")
    assert all(b < a for a, b in zip(result.losses, result.losses[1:], strict=False))
    # checkpointing does not change the gradient
    z = noise.clone().requires_grad_(True)
    (g1,) = torch.autograd.grad((decode(z) - y).square().sum(), z)
    (g2,) = torch.autograd.grad((EulerSampler().sample(exact_teacher, z, grid).x0 - y).square().sum(), z)
    torch.testing.assert_close(g1, g2)
    # (a 1-step Euler jump from t = 1 maps every noise to the mean, so the surrogate uses two steps)
    final, res2 = ditto2(lambda z: EulerSampler().sample(exact_teacher, z, uniform_grid(2)).x0, decode,
                         lambda x: (x - y).square().sum(), noise, steps=10, lr=0.05)
    assert res2.losses[-1] < res2.losses[0] and final.shape == noise.shape
    with pytest.raises(NumericalError):
        optimize_noise(decode, lambda x: x.sum() * float("nan"), noise, steps=1)
