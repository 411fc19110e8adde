import pytest
import torch

from fewstep.analytic import GaussianData
from fewstep.errors import ConfigError, ShapeError
from fewstep.guidance import ConvexComposition, RewardGuidance, classifier_free_guidance
from fewstep.metrics import frechet_distance, mmd, sliced_wasserstein
from fewstep.nn import EMA, Attention, DiTBlock, ema_decay, sinusoidal_embedding
from fewstep.paths import LinearPath
from fewstep.samplers import EulerSampler, uniform_grid


def test_cfg_formula_endpoints():
    c, u = torch.randn(2, 4, 3)
    torch.testing.assert_close(classifier_free_guidance(c, u, 1.0), c)
    torch.testing.assert_close(classifier_free_guidance(c, u, 0.0), u)
    torch.testing.assert_close(classifier_free_guidance(c, u, 3.0), u + 3 * (c - u))


class Constant(torch.nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, x, t):
        return torch.full_like(x, self.value)


def test_convex_composition_weights_and_errors():
    comp = ConvexComposition([Constant(1.0), Constant(3.0)], [0.25, 0.75])
    torch.testing.assert_close(comp(torch.zeros(2, 2), torch.zeros(2)), torch.full((2, 2), 2.5))
    with pytest.raises(ConfigError, match="sum to 1"):
        ConvexComposition([torch.nn.Identity()] * 2, [0.5, 0.6])
    with pytest.raises(ConfigError, match="one number per model"):
        ConvexComposition([torch.nn.Identity()] * 2, [1.0])


def test_reward_guidance_moves_samples_towards_reward():
    data, path = GaussianData(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64)), LinearPath()
    velocity = lambda x, t: data.velocity(path, x, t)  # noqa: E731
    reward = lambda x0: x0[:, 0]  # noqa: E731
    noise = torch.randn(512, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    t_grid = uniform_grid(50, t_start=0.98)
    plain = EulerSampler().sample(velocity, noise, t_grid).x0
    guided = EulerSampler().sample(RewardGuidance(velocity, path, reward, scale=0.5), noise, t_grid).x0
    assert guided[:, 0].mean() > plain[:, 0].mean() + 0.2


def test_distances_separate_distributions():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(1500, 3, generator=g), torch.randn(1500, 3, generator=g)
    z = torch.randn(1500, 3, generator=g) + 1
    assert sliced_wasserstein(x, y) < 0.1 < sliced_wasserstein(x, z)
    assert mmd(x, y) < 0.01 < mmd(x, z)
    assert frechet_distance(x, y) < 0.05 and abs(frechet_distance(x, z) - 3.0) < 0.3
    with pytest.raises(ShapeError, match="same feature dimension"):
        mmd(x, torch.randn(10, 2))


def test_attention_backends_agree_and_dit_block_starts_as_identity():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 16)
    sdpa = Attention(16, 2)
    math = Attention(16, 2, backend="math")
    math.load_state_dict(sdpa.state_dict())
    torch.testing.assert_close(sdpa(x), math(x), atol=1e-5, rtol=1e-5)
    block = DiTBlock(16, 2)
    torch.testing.assert_close(block(x, torch.randn(2, 16)), x)


def test_math_attention_supports_forward_mode_ad():
    attn = Attention(8, 2, backend="math").double()
    x, dx = torch.randn(2, 1, 5, 8, dtype=torch.float64)
    _, jvp = torch.func.jvp(attn, (x,), (dx,))
    h = 1e-6
    torch.testing.assert_close(jvp, (attn(x + h * dx) - attn(x - h * dx)) / (2 * h), atol=1e-6, rtol=1e-5)


def test_timestep_embedding_is_float32_under_autocast():
    with torch.autocast("cpu", dtype=torch.bfloat16):
        emb = sinusoidal_embedding(torch.rand(4), 16)
    assert emb.dtype == torch.float32 and emb.shape == (4, 16)


def test_ema_schedules_and_update():
    assert ema_decay("constant", 10, beta=0.9) == 0.9
    assert ema_decay("power", 1) == 0.0 and 0.0 < ema_decay("power", 100) < ema_decay("power", 1000) < 1
    assert ema_decay("half_life", 5, half_life_samples=1000, batch_size=1000) == 0.5
    model = torch.nn.Linear(2, 2)
    ema = EMA(model, beta=0.5, warmup=False)
    with torch.no_grad():
        target = model.weight.clone() + 1.0
        model.weight.add_(1.0)
    ema.update(model)
    torch.testing.assert_close(ema.shadow.weight, target - 0.5)


def test_kernel_backend_is_one_switch_with_equal_outputs_and_jvp():
    torch.manual_seed(0)
    x, dx = torch.randn(2, 2, 7, 16)
    plain = DiTBlock(16, 2)
    with torch.no_grad():
        for p in plain.ada.parameters():
            p.normal_(0, 0.1)  # leave the identity start so attention matters
    fused = DiTBlock(16, 2, backend="kernels")
    fused.load_state_dict(plain.state_dict())
    c = torch.randn(2, 16)
    torch.testing.assert_close(fused(x, c), plain(x, c), atol=1e-5, rtol=1e-5)
    math = DiTBlock(16, 2, backend="math")
    math.load_state_dict(plain.state_dict())
    _, jvp_fused = torch.func.jvp(lambda v: fused(v, c), (x,), (dx,))
    _, jvp_math = torch.func.jvp(lambda v: math(v, c), (x,), (dx,))
    torch.testing.assert_close(jvp_fused, jvp_math, atol=1e-4, rtol=1e-4)


def test_ema_warmup_forgets_the_initial_weights():
    model = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.zero_()
    plain, warm = EMA(model, beta=0.999, warmup=False), EMA(model, beta=0.999)
    with torch.no_grad():
        model.weight.fill_(1.0)
    for _ in range(2000):
        plain.update(model)
        warm.update(model)
    assert abs(plain.shadow.weight.mean().item() - (1 - 0.999**2000)) < 1e-4  # 13.5% of the init remains
    assert warm.shadow.weight.mean().item() > 0.9999


def test_attention_bias_is_added_to_the_logits_on_every_backend():
    torch.manual_seed(0)
    x, bias = torch.randn(2, 5, 16), torch.randn(2, 2, 5, 5)
    sdpa = Attention(16, 2)
    math = Attention(16, 2, backend="math")
    math.load_state_dict(sdpa.state_dict())
    torch.testing.assert_close(sdpa(x, bias), math(x, bias), atol=1e-5, rtol=1e-5)
    assert (sdpa(x, bias) - sdpa(x)).abs().max() > 1e-3
    with pytest.raises(ConfigError, match="no additive attention bias"):
        Attention(16, 2, backend="kernels")(x, bias)


@pytest.mark.parametrize("backend", ["sdpa", "math"])
def test_causal_token_transformer_never_reads_later_tokens(backend):
    from fewstep.nn import TokenTransformer, TokenTransformerConfig

    torch.manual_seed(0)
    config = dict(num_classes=7, max_len=8, width=16, depth=2, heads=2, backend=backend)
    causal = TokenTransformer(TokenTransformerConfig(**config, causal=True)).eval()
    bidirectional = TokenTransformer(TokenTransformerConfig(**config)).eval()
    bidirectional.load_state_dict(causal.state_dict())
    z = torch.randint(0, 7, (3, 8))
    z_changed = z.clone()
    z_changed[:, 5] = (z[:, 5] + 1) % 7
    t = torch.zeros(3)
    torch.testing.assert_close(causal(z, t)[:, :5], causal(z_changed, t)[:, :5])
    assert not torch.allclose(causal(z, t)[:, 5:], causal(z_changed, t)[:, 5:])
    assert not torch.allclose(bidirectional(z, t)[:, :5], bidirectional(z_changed, t)[:, :5])
