"""The ``fewstep`` command: fit, distill, sample, evaluate, bench, demo."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from fewstep.errors import ConfigError, FewstepError

DOMAINS = {
    "audio": "CoMoSpeech, StyleTTS-ZS, DITTO-2",
    "protein": "Score identity Distillation of a Proteina-style C-alpha flow model",
    "shape3d": "DiT-3D, Mosaic-SDF, MDT-dist",
    "video": "Efficient-vDiT, Reward Forcing, rCM",
    "language": "DiDi-Instruct distillation of a masked diffusion LM",
    "robotics": "GPC policy composition, GoalFlow",
}
METHODS = "cd, mcd, ctm, scm, dmd, re_dmd, rcm, sid, mdt, perceptual, didi (discrete), ditto"
#: area -> "module:function" returning benchmark rows for ``(quick, progress)``
BENCH_AREAS = {
    "core": "fewstep.bench.core:run",
    "zoo": "fewstep.distillers.bench:run",
    "kernels": "fewstep.kernels.bench:run",
    **{name: f"fewstep.domains.{name}.bench:run" for name in DOMAINS},
    "language-strided": "fewstep.domains.language.bench:run_strided",
}


def _load(target: str) -> Callable:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _available(mapping: dict[str, str]) -> dict[str, str]:
    found = {}
    for key, target in mapping.items():
        try:
            _load(target)
        except (ImportError, AttributeError):
            continue
        found[key] = target
    return found


def _epilog() -> str:
    from fewstep.train.lightning_cli import builtin_configs

    lines = ["domains:"] + [f"  {name:<9} {desc}" for name, desc in DOMAINS.items()]
    lines += [f"distillation methods: {METHODS}", f"shipped configs: {', '.join(builtin_configs())}",
              "examples:", "  fewstep demo", "  fewstep fit --config toy2d_teacher trainer.max_epochs=4",
              "  fewstep bench core --quick --out core.json"]
    return "\n".join(lines)


def _apply_threads(threads: int | None) -> None:
    """``--threads N``: torch's intra-op CPU threads (None keeps torch's default)."""
    if threads is None:
        return
    if threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def _cmd_bench(args: argparse.Namespace) -> None:
    from fewstep.bench.results import make_results, validate_rows, write_results

    areas = _available(BENCH_AREAS)
    if args.area not in areas:
        raise ConfigError(f"bench area must be one of {sorted(areas)}, got {args.area!r}")
    _apply_threads(args.threads)
    rows = _load(areas[args.area])(quick=args.quick, progress=not args.no_progress)
    validate_rows(args.area, rows)
    command = "fewstep bench " + args.area + (" --quick" if args.quick else "")
    command += f" --threads {args.threads}" if args.threads is not None else ""
    results = make_results(args.area, rows, command)
    if args.out:
        print(f"wrote {write_results(results, args.out)}")
    from fewstep.bench.readme import render_table

    print(render_table(results))


def _cmd_demo(args: argparse.Namespace) -> None:
    from fewstep.demo import run_demo

    _apply_threads(args.threads)
    if args.domain == "toy":
        run_demo(out_dir=Path(args.out_dir), progress=not args.no_progress, quick=args.quick)
    else:
        run_demo(domain=args.domain, out_dir=Path(args.out_dir), progress=not args.no_progress)


def _cmd_sample(args: argparse.Namespace) -> None:
    from fewstep.sampling import sample_pretrained

    sample_pretrained(args.pretrained, n=args.n, nfe=args.nfe, sampler=args.sampler, seed=args.seed,
                      out=args.out, plot=args.plot)


def _sample_domain(domain: str, argv: list[str]) -> int:
    """``fewstep sample <domain> ...``: the domain's own sampler (structures, text, trajectories)."""
    try:
        entry = _load(f"fewstep.domains.{domain}.sample:main")
    except (ImportError, AttributeError):
        raise ConfigError(f"domain {domain!r} has no sampler yet") from None
    return entry(argv)


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from fewstep.sampling import evaluate_samples

    for key, value in evaluate_samples(args.samples, dataset=args.dataset).items():
        print(f"{key}: {value}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fewstep", description="Few-step generative models across sciences.",
                                     epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("fit", "train a teacher (LightningCLI; --config FILE|NAME, key.sub=value overrides)"),
                       ("distill", "distil a few-step student (LightningCLI, same syntax as fit)")):
        sub.add_parser(name, help=text, add_help=False)
    bench = sub.add_parser("bench", help="regenerate one results table")
    bench.add_argument("area", help=f"one of {sorted(BENCH_AREAS)}")
    bench.add_argument("--quick", action="store_true", help="smoke-scale run (~3 minutes on 2 CPU cores)")
    bench.add_argument("--out", help="write the results JSON here")
    bench.add_argument("--threads", type=int, default=None,
                       help="CPU threads for torch (1 is fastest for the small models of the core and zoo tables)")
    bench.add_argument("--no-progress", action="store_true")
    bench.set_defaults(func=_cmd_bench)
    demo = sub.add_parser("demo", help="train, distil and compare on built-in data; writes under runs/")
    demo.add_argument("domain", nargs="?", default="toy", help="toy (default) or a domain name")
    demo.add_argument("--out-dir", default="runs/demo")
    demo.add_argument("--no-progress", action="store_true")
    demo.add_argument("--quick", action="store_true", help="smoke scale (seconds), same pipeline")
    demo.add_argument("--threads", type=int, default=1,
                      help="CPU threads for torch (default 1: the demos' small models run fastest on one thread, "
                           "and stay fast when other jobs share the cores)")
    demo.set_defaults(func=_cmd_demo)
    sample = sub.add_parser("sample", help="sample a pretrained folder (or: fewstep sample <domain> ...)")
    sample.add_argument("pretrained", help="folder written by save_pretrained / fewstep fit")
    sample.add_argument("--n", type=int, default=1000)
    sample.add_argument("--nfe", type=int, default=8)
    sample.add_argument("--sampler", default="euler", choices=["euler", "heun", "dpm_solver++", "sde"])
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", default="samples.npy")
    sample.add_argument("--plot", default=None, help="also write a scatter plot (2-D data)")
    sample.set_defaults(func=_cmd_sample)
    evaluate = sub.add_parser("evaluate", help="compare samples with a built-in distribution")
    evaluate.add_argument("samples", help=".npy file of (n, dim) samples")
    evaluate.add_argument("--dataset", required=True)
    evaluate.set_defaults(func=_cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("fit", "distill"):
            from fewstep.train.lightning_cli import run_lightning

            run_lightning(argv[1:])
            return 0
        if len(argv) > 1 and argv[0] == "sample" and argv[1] in DOMAINS:
            return _sample_domain(argv[1], argv[2:])
        args = build_parser().parse_args(argv)
        args.func(args)
    except FewstepError as err:
        print(f"fewstep: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
