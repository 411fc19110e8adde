"""Exporting a flow policy with ``torch.export`` for a C++ (AOTInductor) or real-time host."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from fewstep.domains.robotics.config import PolicyKind
from fewstep.domains.robotics.model import ChunkPolicyModel
from fewstep.errors import ConfigError


class ExportablePolicy(nn.Module):
    r"""``forward(noise, *observations) -> raw chunk``: a flow policy's sampler unrolled over a fixed grid.

    The Euler steps x_{i+1} = x_i + (t_{i+1} - t_i) v(x_i, t_i | o) of
    :class:`fewstep.samplers.EulerSampler` with the grid baked in as Python floats: the core sampler
    validates its grid with data-dependent checks that ``torch.export`` cannot trace. Noise is an input,
    so the host owns the randomness and eager and exported programs agree for equal inputs.
    noise: (b, horizon, action_dim); observations in the order of ``config.observations``.
    """

    def __init__(self, model: ChunkPolicyModel, steps: int) -> None:
        super().__init__()
        if model.config.kind is not PolicyKind.FLOW:
            raise ConfigError(f"export supports flow policies (kind 'flow'), got kind {model.config.kind.value!r}")
        self.model = model.eval()
        self.names = list(model.config.observations)
        self.times = model.t_grid(steps).tolist()

    def forward(self, noise_bha: Tensor, *observations: Tensor) -> Tensor:
        cond = self.model.encoder(dict(zip(self.names, observations)))
        x = noise_bha.double()
        for t_cur, t_next in zip(self.times[:-1], self.times[1:]):
            t_b = torch.full_like(noise_bha[:, 0, 0], t_cur)
            x = x + (t_next - t_cur) * self.model.denoiser(x.to(noise_bha.dtype), t_b, cond).double()
        return self.model.action_normalizer.unnormalize(self.model.config.noise_scale * x.to(noise_bha.dtype))


def export_policy(model: ChunkPolicyModel, observations: dict[str, Tensor], *, steps: int | None = None
                  ) -> torch.export.ExportedProgram:
    """Traces :class:`ExportablePolicy` with ``torch.export.export`` on example ``observations``
    {name: (b, *shape)}; the exported program takes ``(noise, *observations)`` for that batch size."""
    b = model.validate(observations)
    module = ExportablePolicy(model, model.config.steps if steps is None else steps)
    noise = torch.zeros(b, model.horizon, model.action_dim)
    args = (noise, *(observations[name] for name in module.names))
    with torch.no_grad():
        return torch.export.export(module, args)


def save_exported(program: torch.export.ExportedProgram, path: str | Path) -> Path:
    """Writes the program as a ``.pt2`` archive (``torch.export.load`` or AOTInductor read it)."""
    file = Path(path)
    if file.suffix != ".pt2":
        raise ConfigError(f"exported programs are saved as .pt2 files, got {file.name!r}")
    file.parent.mkdir(parents=True, exist_ok=True)
    torch.export.save(program, str(file))
    return file
