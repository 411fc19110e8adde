import torch

from fewstep.distillers.ctm import CTM, flow_map, flow_map_from_teacher
from fewstep.distillers.perceptual import PerceptualDistillation, RandomFeatures
from fewstep.distillers.training import fit_distiller
from fewstep.paths import LinearPath


def test_flow_map_boundary_and_teacher_init(mlp_teacher):
    net = flow_map_from_teacher(mlp_teacher)
    x = torch.randn(5, 2, dtype=torch.float64)
    t, s = torch.full((5,), 0.6, dtype=torch.float64), torch.full((5,), 0.2, dtype=torch.float64)
    assert torch.equal(flow_map(net, x, t, t), x)
    torch.testing.assert_close(net(x, t, s), mlp_teacher(x, t))


def test_ctm_loss_and_adaptive_weight(mlp_teacher):
    ctm = CTM(mlp_teacher, LinearPath(), grid_steps=4, ema_beta=0.5)
    out = ctm.loss("student", torch.randn(16, 2, dtype=torch.float64), 0, torch.Generator().manual_seed(0))
    assert 0 <= out.metrics["dsm_weight"].item() <= 1e4
    out.loss.backward()
    assert ctm.generate(torch.randn(4, 2, dtype=torch.float64), 2).nfe == 2


def test_ctm_learns(exact_teacher, gaussian, make_mlp):
    ctm = CTM(exact_teacher, LinearPath(), make_mlp(seed=1, time_inputs=2, width=32).float(), grid_steps=8,
              solver="euler")
    noise = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))

    def error() -> float:
        with torch.no_grad():
            return (ctm.generate(noise, 1).x0.double().mean(0) - gaussian.mean).norm().item()

    before = error()
    fit_distiller(ctm, lambda n, g: gaussian.sample(n, g).float(), steps=100, batch_size=64, lr=3e-3,
                  progress=False, betas=(0.9, 0.99))
    assert error() < 0.5 * before


def test_perceptual_caches_pairs_once_and_learns(exact_teacher, gaussian, make_mlp):
    from fewstep.distillers.base import x0_student

    path = LinearPath()
    d = PerceptualDistillation(exact_teacher, path, x0_student(make_mlp(seed=2, width=32).float(), path),
                               features=RandomFeatures(2, 16), pairs=256, teacher_steps=8, snapshots=2)
    hist = fit_distiller(d, lambda n, g: gaussian.sample(n, g).float(), steps=120, batch_size=64, lr=3e-3,
                         progress=False, betas=(0.9, 0.99))
    states, times, targets = d.cache
    assert states.shape == (2, 256, 2) and times.tolist() == [1.0, 0.5]
    first = sum(h["student/loss"] for h in hist[:10]) / 10
    last = sum(h["student/loss"] for h in hist[-10:]) / 10
    assert last < 0.5 * first
    cache_id = id(d.cache[0])
    d.loss("student", targets[:4], 0, None)
    assert id(d.cache[0]) == cache_id
