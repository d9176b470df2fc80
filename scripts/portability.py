"""The platform matrix on one machine: every notebook re-executed under simulated CPUs and compared.

A reader's laptop, GitHub's runners and Binder round differently from the machine that stored the
outputs. Three knobs change floating-point results on one x86-64 machine:

- ``OPENBLAS_CORETYPE``: which kernels the (DYNAMIC_ARCH) OpenBLAS of numpy and scipy uses; numpy's own
  vector loops follow the same processor (``NPY_DISABLE_CPU_FEATURES``: no AVX-512 for Haswell and Zen,
  no AVX2 either for Sandybridge), as they would on that CPU;
- ``XLA_FLAGS=--xla_cpu_max_isa=…``: which instruction set JAX's compiler may use;
- ``OPENBLAS_NUM_THREADS``: one or two BLAS threads (another summation order).

For each configuration this runs nbval (strict) on the notebooks: it fails unless every claim holds and
every compared output equals the stored one.

    python scripts/portability.py                # the CI subset: every knob changed at least once
    python scripts/portability.py --full         # every combination
    python scripts/portability.py book/mad.ipynb # only some notebooks
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORETYPES = ("Haswell", "SkylakeX", "Zen", "Sandybridge")
ISAS = ("SSE4_2", "AVX2")
THREADS = (1, 2)
#: numpy's SIMD dispatch targets that the simulated processor does not have
NUMPY_DISABLED = {
    "Haswell": "X86_V4 AVX512_ICL AVX512_SPR",
    "Zen": "X86_V4 AVX512_ICL AVX512_SPR",
    "SkylakeX": "",
    "Sandybridge": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
}
# Every knob away from this machine's default at least once; the oldest kernels and ISA together.
SUBSET = (("Sandybridge", "SSE4_2", 1), ("Haswell", "AVX2", 2))


def configurations(full: bool) -> list[tuple[str, str, int]]:
    return list(itertools.product(CORETYPES, ISAS, THREADS)) if full else list(SUBSET)


def run(config: tuple[str, str, int], notebooks: list[str]) -> tuple[bool, str, float]:
    core, isa, threads = config
    env = os.environ | {
        "OPENBLAS_CORETYPE": core,
        "NPY_DISABLE_CPU_FEATURES": NUMPY_DISABLED[core],
        "XLA_FLAGS": f"--xla_cpu_max_isa={isa}",
        "OPENBLAS_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "JAX_PLATFORMS": "cpu",
        "PYTHONHASHSEED": "0",
    }
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *notebooks]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    tail = (proc.stdout + proc.stderr).strip().splitlines()
    failures = [line for line in tail if line.startswith("FAILED")]
    summary = tail[-1] if tail else "(no output)"
    return proc.returncode == 0, "\n".join([*failures, summary]), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", help="book/<chapter>.ipynb (default: all)")
    parser.add_argument("--full", action="store_true", help="every combination of the three knobs")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.ipynb"))
    results = []
    for config in configurations(args.full):
        ok, summary, seconds = run(config, notebooks)
        results.append((config, ok))
        core, isa, threads = config
        mark = "✓" if ok else "✗"
        print(f"{mark} OPENBLAS_CORETYPE={core:<11} max ISA {isa:<6} {threads} thread(s)  {seconds:5.0f} s")
        print("    " + summary.replace("\n", "\n    "), flush=True)
    n_ok = sum(ok for _, ok in results)
    print(f"\n{n_ok}/{len(results)} configurations pass: claims hold, compared outputs identical.")
    return 0 if n_ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
