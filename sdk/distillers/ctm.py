"""Consistency trajectory models (CTM): a flow-map student G(x_t, t, s)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fewstep.checks import broadcast_like
from fewstep.distillers.base import Distiller, Update, check_data, check_nfe, standard_noise
from fewstep.distillers.consistency import TeacherSolver, teacher_ode_step
from fewstep.errors import ConfigError
from fewstep.nn.ema import EMA
from fewstep.nn.mlp import MLPConfig, TimeMLP
from fewstep.objectives.base import ObjectiveOutput
from fewstep.parametrizations.convert import Prediction
from fewstep.paths.linear import LinearPath
from fewstep.samplers.base import SampleOutput
from fewstep.samplers.grids import uniform_grid


def flow_map(net: nn.Module, x_t: Tensor, t: Tensor, s: Tensor) -> Tensor:
    r"""G(x_t, t, s) = (s / t) x_t + (1 - s / t) g(x_t, t, s) = x_t - (t - s) u(x_t, t, s) on the linear path
    (CTM, Kim et al. 2024, arXiv:2310.02279, Eq. 5, with u = (x_t - g) / t); G(x, t, t) = x exactly."""
    return x_t - broadcast_like(t - s, x_t) * net(x_t, t, s)


def flow_map_from_teacher(teacher: TimeMLP) -> TimeMLP:
    """A two-time :class:`TimeMLP` u(x, t, s) equal to the teacher's velocity v(x, t) at initialisation:
    the teacher's weights, plus an s-embedding whose output layer starts at zero."""
    cfg = teacher.config
    student = TimeMLP(MLPConfig(cfg.dim, cfg.width, cfg.depth, time_inputs=2, time_scale=cfg.time_scale))
    student = student.to(next(teacher.parameters()))
    student.load_state_dict(teacher.state_dict(), strict=False)
    nn.init.zeros_(student.time[1].mlp[-1].weight)
    nn.init.zeros_(student.time[1].mlp[-1].bias)
    return student.train().requires_grad_(True)


class CTM(Distiller):
    r"""CTM distillation (arXiv:2310.02279, Eq. 7-9) without the GAN term.

    t = n / N (n ~ U{1..N}), s ~ U[0, t - 1/N], x_t = (1 - t) x0 + t eps, x_{t'} = one teacher Heun step
    to t' = t - 1/N. With G_sg the EMA / stop-gradient target network:

    .. math:: L_{CTM} = \| G_{sg}(G_\theta(x_t, t, s), s, 0) - G_{sg}(G_{sg}(x_{t'}, t', s), s, 0) \|^2,\qquad
              L_{DSM} = \| u_\theta(x_t, t, t) - (\varepsilon - x_0) \|^2

    L = L_CTM + lambda L_DSM, lambda = ||grad_last L_CTM|| / ||grad_last L_DSM|| clamped to [0, 1e4]
    (Eq. 9, the adaptive weight on the student's last layer). ``net(x, t, s)`` is u.
    """

    def __init__(self, teacher: nn.Module, path: LinearPath, net: nn.Module | None = None, *,
                 grid_steps: int = 32, ema_beta: float = 0.0, solver: TeacherSolver | str = TeacherSolver.HEUN
                 ) -> None:
        super().__init__(teacher, path, Prediction.VELOCITY)
        if not isinstance(path, LinearPath):
            raise ConfigError(f"CTM's flow map here is written for LinearPath, got {path!r}")
        if net is None and not isinstance(teacher, TimeMLP):
            raise ConfigError("pass net(x, t, s) unless the teacher is a TimeMLP "
                              "(copied by flow_map_from_teacher)")
        self.net = net if net is not None else flow_map_from_teacher(teacher)
        if not 0 <= ema_beta < 1 or grid_steps < 1:
            raise ConfigError(f"need 0 <= ema_beta < 1 and grid_steps >= 1, got {ema_beta}, {grid_steps}")
        self.target = EMA(self.net, beta=ema_beta)
        self.grid_steps, self.solver = grid_steps, TeacherSolver(solver)

    def trainable(self) -> dict[str, nn.Module]:
        return {"student": self.net}

    def updates(self) -> list[Update]:
        return [Update("student")]

    def after_update(self, network: str, step: int) -> None:
        self.target.update(self.net)

    def _last_layer(self) -> Tensor:
        return [p for p in self.net.parameters() if p.ndim >= 2][-1]

    def loss(self, network: str, x0: Tensor | None, step: int, generator: torch.Generator | None
             ) -> ObjectiveOutput:
        self._check_network(network)
        x0 = check_data(x0, "CTM")
        b = x0.shape[0]
        n = torch.randint(1, self.grid_steps + 1, (b,), generator=generator)
        t, t_prev = (n / self.grid_steps).to(x0), ((n - 1) / self.grid_steps).to(x0)
        s = t_prev * torch.rand(b, generator=generator, dtype=torch.float64).to(x0)
        zero = torch.zeros_like(t)
        eps = standard_noise(x0, generator)
        x_t = self.path.sample(x0, eps, t).x_t
        sg = self.target.shadow
        with torch.no_grad():
            velocity = lambda x, tt: self.teacher_predict(x, tt, Prediction.VELOCITY)  # noqa: E731
            x_prev = teacher_ode_step(velocity, x_t, t, t_prev, self.solver)
            target = flow_map(sg, flow_map(sg, x_prev, t_prev, s), s, zero)
        estimate = flow_map(sg, flow_map(self.net, x_t, t, s), s, zero)
        ctm = (estimate - target).flatten(1).square().mean(dim=1)
        dsm = (self.net(x_t, t, t) - (eps - x0)).flatten(1).square().mean(dim=1)
        last = self._last_layer()
        g_ctm = torch.autograd.grad(ctm.mean(), last, retain_graph=True)[0]
        g_dsm = torch.autograd.grad(dsm.mean(), last, retain_graph=True)[0]
        weight = (g_ctm.norm() / g_dsm.norm().clamp_min(1e-12)).clamp(0, 1e4).detach()
        per_sample = ctm + weight * dsm
        metrics = {"ctm": ctm.mean().detach(), "dsm": dsm.mean().detach(), "dsm_weight": weight}
        return ObjectiveOutput(loss=per_sample.mean(), per_sample=per_sample, metrics=metrics)

    def generate(self, noise: Tensor, nfe: int, generator: torch.Generator | None = None) -> SampleOutput:
        """Deterministic flow-map jumps x <- G(x, t_i, t_{i+1}) on ``uniform_grid(nfe)`` (CTM's gamma = 0)."""
        x, b = noise, noise.shape[0]
        grid = uniform_grid(check_nfe(nfe))
        for t_cur, t_next in zip(grid[:-1], grid[1:], strict=True):
            x = flow_map(self.net, x, t_cur.to(noise).expand(b), t_next.to(noise).expand(b))
        return SampleOutput(x0=x, nfe=nfe)
