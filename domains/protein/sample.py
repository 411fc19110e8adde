"""``fewstep sample protein``: writes generated Cα backbones as PDB or mmCIF files.

A checkpoint folder written by :func:`fewstep.hub.save_pretrained` (or the demo) holds a
:class:`~fewstep.domains.protein.model.ProteinaMini`. ``--kind teacher`` samples it with the SDE
(``--gamma``, 0 = ODE) on Proteina's log grid; ``--kind student`` treats it as a SiD generator (a velocity
network read as x0 = x_t - t v, started from x̂ = 0 as in SiD-Protein) and samples ``--nfe`` steps with
noise scale ``--gamma``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from fewstep.domains.protein.io import save_backbone
from fewstep.domains.protein.model import ProteinaMini
from fewstep.domains.protein.sampling import sample_student, sample_teacher
from fewstep.errors import ConfigError
from fewstep.hub import from_pretrained
from fewstep.parametrizations import AsPrediction, Prediction
from fewstep.paths import LinearPath


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fewstep sample protein", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="folder written by save_pretrained (a ProteinaMini)")
    p.add_argument("--kind", choices=("teacher", "student"), default="student")
    p.add_argument("--length", type=int, default=48, help="residues per backbone")
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--nfe", type=int, default=None, help="steps (default: 400 teacher, 16 student)")
    p.add_argument("--gamma", type=float, default=0.45, help="noise scale; teacher 0 = ODE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=("pdb", "cif"), default="pdb")
    p.add_argument("--out-dir", default="samples/protein")
    return p


def main(argv: list[str]) -> int:
    """Entry point; returns 0 and prints the written paths."""
    args = parser().parse_args(argv)
    if args.count < 1 or args.length < 5:
        raise ConfigError(f"need --count >= 1 and --length >= 5, got {args.count}, {args.length}")
    model = from_pretrained(args.checkpoint)
    if not isinstance(model, ProteinaMini):
        raise ConfigError(f"{args.checkpoint}: holds a {type(model).__name__}, expected a ProteinaMini")
    generator = torch.Generator().manual_seed(args.seed)
    if args.kind == "teacher":
        gamma = None if args.gamma == 0 else args.gamma
        x = sample_teacher(model, args.count, args.length, nfe=args.nfe or 400, gamma=gamma, generator=generator)
    else:
        student = AsPrediction(model, source=Prediction.VELOCITY, target=Prediction.X0, path=LinearPath())
        x = sample_student(student, args.count, args.length, steps=args.nfe or 16, gamma=args.gamma,
                           generator=generator)
    out = Path(args.out_dir)
    for i, coords in enumerate(x.double().numpy()):
        print(save_backbone(coords, out / f"{args.kind}_{args.length}_{args.seed}_{i}.{args.format}"))
    return 0
