"""``fewstep sample language MODEL_DIR [--n N] [--nfe K] [--seed S] [--length L] [--order random|strided]``:
prints text sampled with the ancestral sampler (MDLM, arXiv:2406.07524, App. B.2) from a folder written by
``save_pretrained`` that also holds the tokenizer (as ``fewstep demo language`` writes them). ``--order strided``
reveals planned positions instead of random ones (:func:`fewstep.samplers.strided_positions`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from fewstep.domains.language.teacher import sample_mdlm
from fewstep.domains.language.tokenization import load_tokenizer
from fewstep.errors import ConfigError
from fewstep.hub import from_pretrained
from fewstep.paths import MaskedPath
from fewstep.samplers import REVEAL_ORDERS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fewstep sample language", description=__doc__.split("\n")[0])
    parser.add_argument("model", help="folder with model.safetensors, config.yaml and the tokenizer")
    parser.add_argument("--n", type=int, default=4, help="number of samples")
    parser.add_argument("--nfe", type=int, default=8, help="ancestral sampling steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--length", type=int, default=None, help="tokens per sample (default: the model's max_len)")
    parser.add_argument("--order", choices=REVEAL_ORDERS, default="random", help="which positions each step reveals")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}")
    torch.set_num_threads(1)
    folder = Path(args.model)
    model, tokenizer = from_pretrained(folder), load_tokenizer(folder)
    length = args.length or model.config.max_len
    path = MaskedPath(tokenizer.vocab_size)
    out = sample_mdlm(model, path, args.n, length, args.nfe, generator=torch.Generator().manual_seed(args.seed),
                      order=args.order)
    for i, row in enumerate(out.x0):
        print(f"--- sample {i} ({args.nfe} NFE, {args.order} order) ---")
        print(tokenizer.decode(row.tolist()))
    return 0
