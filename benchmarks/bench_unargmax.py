"""Benchmark of the exact unargmaxable-class detector on all-MiniLM-L6-v2 (chapter book/unargmax.md).

Prints, in one run on the same machine:
  * the exact detector (kexue_utils.unargmax.detect) on the full 30,522 × 384 vocabulary;
  * baseline (a): one full HiGHS LP per token (all 30,521 constraints, exact because the bias-free
    system is homogeneous), timed on a random sample of tokens and extrapolated to the vocabulary;
  * baseline (b): the braid-reflect heuristic of Grivas et al. on every token (finds witnesses only).
The machine is shared, so the 1-minute load average is printed next to the times, with the user CPU time
summed over threads (less sensitive to contention; about twice the idle wall time on 2 cores). The script
fails if any token is left undecided.

Usage:  PYTHONPATH=. python benchmarks/bench_unargmax.py [--sample 3] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.optimize import linprog

from kexue_utils import unargmax as ua


def full_lp_is_argmaxable(W: np.ndarray, k: int) -> bool:
    """Baseline (a): max s s.t. (w_k − w_i)·x ≥ s for all i ≠ k, x ∈ [−1, 1]^d; argmaxable iff s* > 0."""
    d = W.shape[1]
    dW = W[k] - np.delete(W, k, axis=0)
    A = np.hstack([-dW, np.ones((dW.shape[0], 1))])
    c = np.zeros(d + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=A, b_ub=np.zeros(len(A)), bounds=[(-1, 1)] * d + [(None, None)], method="highs")
    return bool(res.status == 0 and -res.fun > 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3, help="tokens for the full-LP baseline")
    parser.add_argument("--steps", type=int, default=10, help="reflections for the braid baseline")
    args = parser.parse_args()

    W = ua.load_minilm_embeddings()
    n, d = W.shape
    print(f"all-MiniLM-L6-v2 word embeddings: {n} x {d} {W.dtype}; cores: {os.cpu_count()}")

    load = os.getloadavg()[0]
    t0, u0 = time.perf_counter(), os.times().user
    det = ua.detect(W)
    t_exact, user = time.perf_counter() - t0, os.times().user - u0
    print(
        f"exact detector   : {t_exact:6.2f} s wall, {user:.2f} s user CPU over all threads; "
        f"{len(det.survivors)} tokens lose at x = w_k in float32, {len(det.witnesses)} of them get a witness "
        f"-> {len(det.unargmaxable)} unargmaxable, {len(det.undecided)} undecided  [load {load:.1f}]"
    )
    if len(det.undecided):
        raise SystemExit(f"undecided tokens: {det.undecided.tolist()}")

    W64 = W.astype(np.float64)
    rng = np.random.default_rng(0)
    sample = np.r_[det.survivors[:1], rng.choice(n, max(args.sample - 1, 0), replace=False)]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    verdicts = [full_lp_is_argmaxable(W64, int(k)) for k in sample]
    per_token = (time.perf_counter() - t0) / len(sample)
    print(
        f"(a) full LP/token: {per_token:6.2f} s per token on {len(sample)} tokens "
        f"(all argmaxable: {all(verdicts)}) -> extrapolated {per_token * n / 3600:.1f} h "
        f"for the vocabulary  [load {load:.1f}]"
    )

    load = os.getloadavg()[0]
    t0, u0 = time.perf_counter(), os.times().user
    found = ua.braid_reflect(W, np.arange(n), steps=args.steps)
    t_braid, user = time.perf_counter() - t0, os.times().user - u0
    print(
        f"(b) braid reflect: {t_braid:6.2f} s wall, {user:.2f} s user CPU  "
        f"({found.sum()} of {n} tokens get a witness within "
        f"{args.steps} reflections; the heuristic cannot certify the rest)  [load {load:.1f}]"
    )


if __name__ == "__main__":
    main()
