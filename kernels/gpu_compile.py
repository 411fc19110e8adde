"""Compile every Triton kernel of fewstep.kernels for a GPU target, without a GPU.

The CPU tests run the kernels in Triton's interpreter, which takes the kernels' interpreter branch
(compile-time loop bounds). This check compiles the GPU branch (runtime loop bounds, tensor-core
dots in bfloat16 and IEEE float32) down to a cubin with Triton's bundled toolchain, so a GPU-only
construct cannot break unnoticed on a machine without one::

    python -m fewstep.kernels.gpu_compile          # sm_90 (H100 / H200)
    python -m fewstep.kernels.gpu_compile 80       # sm_80 (A100)

Run it in a process where no kernel has run under ``TRITON_INTERPRET=1`` (the interpreter patches
``triton.language`` in place). About 15 s for bfloat16 and 2 minutes for float32 on two CPU cores.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable
from typing import Any


def compile_kernel(fn: Callable[..., Any], types: dict[str, str], constexprs: dict[str, Any],
                   arch: int = 90) -> list[str]:
    """Compiles the plain function ``fn`` with this signature; returns the produced stages."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.runtime.jit import JITFunction

    names = list(inspect.signature(fn).parameters)
    if set(names) != set(types) | set(constexprs):
        raise ValueError(f"{fn.__name__}: arguments {names} are not covered by types and constexprs")
    src = ASTSource(fn=JITFunction(fn), signature={n: types.get(n, "constexpr") for n in names},
                    constexprs={(names.index(k),): v for k, v in constexprs.items()})
    return list(triton.compile(src, target=GPUTarget("cuda", arch, 32)).asm)


def _specs(dtype: str) -> list[tuple[Callable[..., Any], dict[str, str], dict[str, Any]]]:
    from . import _triton_adaln as ta
    from . import _triton_block_sparse as bs
    from . import _triton_jvp as tj

    ptr, f32, i32 = f"*{dtype}", "*fp32", "*i32"
    prec = "ieee" if dtype == "fp32" else "tf32"
    meta = {"HEAD_DIM": 64, "BLOCK_D": 64, "PREC": prec, "DYNAMIC_LOOP": True}

    def sig(pointers: str, fp32_pointers: str = "", i32_pointers: str = "", ints: str = "",
            floats: str = "") -> dict[str, str]:
        kinds = ((pointers, ptr), (fp32_pointers, f32), (i32_pointers, i32), (ints, "i32"), (floats, "fp32"))
        return {name: kind for names, kind in kinds for name in names.split()}

    adaln_fwd = sig("X SHIFT SCALE GATE Y", "MEAN RSTD", ints="N_TOK D sh_b sh_n sc_b sc_n g_b g_n",
                    floats="eps")
    adaln_bwd = sig("DY X SCALE GATE DX", "XHAT MEAN RSTD", ints="N_TOK D sc_b sc_n g_b g_n")
    return [
        (bs._fwd_kernel, sig("Q K V O", "LSE", "KV_BLOCKS KV_COUNT K_VALID", "S_Q S_K", "qk_scale"),
         {"MAX_KV": 12, "BLOCK": 64, **meta}),
        (bs._bwd_dkdv_kernel,
         sig("Q K V DO DK DV", "LSE DELTA", "Q_BLOCKS Q_COUNT K_VALID", "S_Q S_K", "sm_scale"),
         {"MAX_Q": 12, "BLOCK": 64, **meta}),
        (bs._bwd_dq_kernel,
         sig("Q K V DO DQ", "LSE DELTA", "KV_BLOCKS KV_COUNT K_VALID", "S_Q S_K", "sm_scale"),
         {"MAX_KV": 12, "BLOCK": 64, **meta}),
        (tj._jvp_fwd_kernel, sig("Q K V TQ TK TV O TO", "LSE", ints="S_Q S_K", floats="sm_scale"),
         {"N_KB": 1, "BLOCK_M": 64, "BLOCK_N": 64, **meta}),
        (ta._adaln_fwd_kernel, adaln_fwd, {"HAS_GATE": True, "BLOCK_D": 1024}),
        (ta._adaln_bwd_kernel, adaln_bwd, {"HAS_GATE": True, "BLOCK_D": 1024}),
    ]


def compile_all(arch: int = 90, dtypes: tuple[str, ...] = ("bf16", "fp32")) -> list[tuple[str, str, float]]:
    """Compiles every kernel for ``sm_{arch}``; returns (kernel, dtype, seconds) per kernel."""
    done = []
    for dtype in dtypes:
        for fn, types, constexprs in _specs(dtype):
            start = time.perf_counter()
            stages = compile_kernel(fn, types, constexprs, arch)
            if "cubin" not in stages:
                raise RuntimeError(f"{fn.__name__} ({dtype}) produced no cubin: {stages}")
            done.append((fn.__name__, dtype, time.perf_counter() - start))
    return done


if __name__ == "__main__":
    for name, dtype, seconds in compile_all(int(sys.argv[1]) if len(sys.argv) > 1 else 90):
        print(f"{name:20s} {dtype:5s} compiled in {seconds:5.1f} s")
