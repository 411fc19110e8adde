import pytest
import torch

from fewstep.analytic import GaussianData
from fewstep.data import MarkovLanguage
from fewstep.errors import ShapeError
from fewstep.nn import MLPConfig, TimeMLP, TokenTransformer, TokenTransformerConfig
from fewstep.objectives import (
    BetaMixtureTime,
    DenoisingScoreMatching,
    FlowMatching,
    LogNormalSigmaTime,
    MaskedDiffusionLoss,
    UniformTime,
)
from fewstep.parametrizations import EDMPreconditioner
from fewstep.paths import EDMPath, LinearPath, MaskedPath
from fewstep.train import fit_teacher


def test_flow_matching_exact_velocity_beats_a_wrong_one():
    data = GaussianData(torch.tensor([1.0, -1.0], dtype=torch.float64), torch.eye(2, dtype=torch.float64))
    path = LinearPath()
    x0 = data.sample(4096, torch.Generator().manual_seed(0))
    exact = FlowMatching(path)(lambda x, t: data.velocity(path, x, t), x0, generator=torch.Generator().manual_seed(1))
    wrong = FlowMatching(path)(lambda x, t: 0.9 * data.velocity(path, x, t), x0,
                               generator=torch.Generator().manual_seed(1))
    assert exact.loss < wrong.loss
    assert exact.per_sample.shape == (4096,)


def test_flow_matching_loss_decreases_when_training():
    data = GaussianData(torch.tensor([2.0, 0.0], dtype=torch.float64), 0.1 * torch.eye(2, dtype=torch.float64))
    _, losses = fit_teacher(FlowMatching(LinearPath()), TimeMLP(MLPConfig(dim=2, width=32, depth=2)),
                            lambda n, g: data.sample(n, g).float(), steps=150, batch_size=128, progress=False)
    assert sum(losses[-20:]) / 20 < 0.6 * sum(losses[:20]) / 20


def test_edm_dsm_loss_decreases_with_preconditioning():
    data = GaussianData(torch.tensor([1.0, -1.0], dtype=torch.float64), 0.04 * torch.eye(2, dtype=torch.float64))
    path = EDMPath()
    model = EDMPreconditioner(TimeMLP(MLPConfig(dim=2, width=32, depth=2, time_scale=100.0)), path)
    _, losses = fit_teacher(DenoisingScoreMatching(path), model, lambda n, g: data.sample(n, g).float(),
                            steps=150, batch_size=128, progress=False)
    assert sum(losses[-20:]) / 20 < 0.7 * sum(losses[:20]) / 20


def test_mdlm_loss_decreases_on_a_markov_language():
    language = MarkovLanguage(vocab_size=6, seq_len=12, seed=0)
    path = MaskedPath(language.vocab_size)
    net = TokenTransformer(TokenTransformerConfig(num_classes=path.num_classes, max_len=12, width=32, depth=1, heads=2))
    _, losses = fit_teacher(MaskedDiffusionLoss(path), net, language.sample, steps=250, batch_size=64, lr=3e-3,
                            progress=False, ema_beta=None)
    late = sum(losses[-50:]) / 50
    stationary = language.stationary
    unigram_entropy = float(-(stationary * stationary.log()).sum())
    assert late < sum(losses[:20]) / 20
    assert language.entropy_per_token() < late < unigram_entropy  # learned transitions; NELBO >= entropy


def test_markov_language_entropy_matches_monte_carlo():
    language = MarkovLanguage(vocab_size=8, seq_len=16, seed=1)
    x = language.sample(20000, torch.Generator().manual_seed(0))
    mc = -language.log_prob(x).mean().item() / 16
    assert abs(mc - language.entropy_per_token()) < 0.02


def test_time_samplers_stay_in_range_and_follow_their_shape():
    g = torch.Generator().manual_seed(0)
    beta = BetaMixtureTime()(20000, generator=g)
    assert 0 <= beta.min() and beta.max() <= 1 and beta.mean() < 0.45  # Proteina's time concentrates near data
    anti = UniformTime(antithetic=True)(8, generator=g)
    gaps = anti.sort().values.diff()
    torch.testing.assert_close(gaps, torch.full_like(gaps, 1 / 8), atol=1e-6, rtol=0)
    sigma_t = LogNormalSigmaTime(EDMPath())(20000, generator=g)
    sigma = EDMPath().sigma(sigma_t.double()).log()
    assert abs(sigma.median().item() + 1.2) < 0.05


def test_objectives_reject_bad_shapes():
    with pytest.raises(ShapeError, match="x0 must be an integer tensor"):
        MaskedDiffusionLoss(MaskedPath(4))(lambda z, t: z, torch.zeros(2, 3))
    with pytest.raises(ShapeError, match="x0 must have at least 2 dimensions"):
        FlowMatching(LinearPath())(lambda x, t: x, torch.zeros(3))
