"""Training both networks, and the command line (book/skip_tuning.md, "Reproducing the checkpoints").

``python -m kexue_utils.skip_tuning train | train-classifier | reproduce``: ``reproduce`` retrains both
networks, reports whether their SHA-256 equal the committed ones, and compares the paired ΔFD of the
cells the chapter's verdict rests on (:data:`REPRO_CELLS`) between the committed and retrained models."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from kexue_utils import _validate as valid
from kexue_utils.skip_tuning import checkpoints, classifier, digits, edm, experiment, unet

P_MEAN, P_STD = -1.2, 1.2  # log-normal training distribution of σ (EDM)


def _edm_loss(params: Any, y: jax.Array, key: jax.Array) -> jax.Array:
    """Eq. (skip-loss): the mean squared error of F against its unit-variance target."""
    k1, k2 = jax.random.split(key)
    sigma = jnp.exp(P_MEAN + P_STD * jax.random.normal(k1, (y.shape[0],)))
    noise = jax.random.normal(k2, y.shape)
    c_skip, c_out, c_in, c_noise = edm.preconditioning(sigma)
    c = lambda v: v[:, None, None, None]  # noqa: E731
    x_noisy = y + c(sigma) * noise
    target = (y - c(c_skip) * x_noisy) / c(c_out)
    out = unet.forward(params, c(c_in) * x_noisy, c_noise, jnp.ones(len(unet.WIDTHS)))
    return jnp.mean((out - target) ** 2)


def train_unet(
    seed: int = 0,
    steps: int = 1200,
    batch: int = 128,
    lr: float = 2e-3,
    ema: float = 0.995,
    verbose: bool = False,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Return (EMA parameters, info): the U-Net trained with the EDM loss of Eq. (skip-loss).

    Adam with linear warm-up and cosine decay on the training digits; deterministic for a given
    seed, machine and library version.
    """
    seed = valid.integer("seed", seed, 0, 2**63 - 2)
    steps = valid.integer("steps", steps, 2, 10**6)
    batch = valid.integer("batch", batch, 2, digits.N_DIGITS - 360)
    lr = valid.real_number("lr", lr, low=0.0, high=1.0, low_open=True, high_open=True)
    ema = valid.real_number("ema", ema, low=0.0, high=1.0, high_open=True)
    if not isinstance(verbose, bool):
        raise TypeError(f"verbose must be a bool, got {type(verbose).__name__}")
    data = jnp.asarray(digits.load_split()[0])
    params = unet.init(seed)
    opt = optax.adam(optax.warmup_cosine_decay_schedule(0.0, lr, min(100, steps // 2), steps, lr * 0.05))

    @jax.jit
    def step(params: Any, ema_p: Any, state: Any, key: jax.Array) -> tuple[Any, Any, Any, jax.Array]:
        k1, k2 = jax.random.split(key)
        idx = jax.random.choice(k1, data.shape[0], (batch,), replace=False)
        loss, grads = jax.value_and_grad(_edm_loss)(params, data[idx], k2)
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        ema_p = jax.tree.map(lambda e, p: ema * e + (1 - ema) * p, ema_p, params)
        return params, ema_p, state, loss

    ema_params, state, key = params, opt.init(params), jax.random.key(seed + 1)
    t0, losses = time.perf_counter(), []
    for i in range(steps):
        key, sub = jax.random.split(key)
        params, ema_params, state, loss = step(params, ema_params, state, sub)
        losses.append(loss)
        if verbose and (i + 1) % 250 == 0:
            print(
                f"step {i + 1:5d}  loss(last 250) {float(jnp.mean(jnp.stack(losses[-250:]))):.4f}", flush=True
            )
    final = float(jnp.mean(jnp.stack(losses[-100:])))
    return ema_params, {"final_loss": final, "seconds": time.perf_counter() - t0}


#: the skip settings and cells (setting, method, Karras steps) the chapter's verdict rests on
REPRO_SETTINGS = {"ρ = 1": (1, 1), "ρ_b = 0.6": (0.6, 1), "ρ_b = 1.4": (1.4, 1), "ρ_t = 0.6": (1, 0.6)}
REPRO_CELLS = [(k, "euler", n) for k in ("ρ_b = 1.4", "ρ_b = 0.6", "ρ_t = 0.6") for n in (3, 4)]
REPRO_CELLS += [("ρ_t = 0.6", "heun", 2), ("ρ_t = 0.6", "heun", 3), ("ρ_b = 0.6", "heun", 3)]
REPRO_SEEDS = range(40)


def compare_models(
    reference: tuple[Any, Any], candidate: tuple[Any, Any], seeds: Sequence[int] = REPRO_SEEDS
) -> tuple[list[str], bool]:
    """Return (printable lines, ok): the verdict cells' paired ΔFD for two (U-Net, classifier) pairs.

    ``ok`` when, in every cell of :data:`REPRO_CELLS`, the mean ΔFD over ``seeds`` has the same sign for
    both pairs and the two means differ by at most three combined standard errors.
    """
    seeds = valid.integers("seeds", seeds, 0, min_len=2)
    for name, pair in (("reference", reference), ("candidate", candidate)):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"{name} must be a (U-Net parameters, classifier) pair")
    x_train = digits.load_split()[0]
    settings = {k: unet.skip_scales(b, t) for k, (b, t) in REPRO_SETTINGS.items()}
    budgets = sorted({(m, n) for _, m, n in REPRO_CELLS})
    deltas = []
    for params, clf in (reference, candidate):
        real = classifier.features(clf, x_train)
        res = experiment.sweep(params, clf, real, settings, budgets, seeds, with_pr=False)
        deltas.append([experiment.paired(res, cell)["delta"] for cell in REPRO_CELLS])
    lines, ok = ["sampler NFE setting        | ΔFD committed  | ΔFD retrained  | same sign, |diff|/se"], True
    for (name, method, steps), ref, new in zip(REPRO_CELLS, *deltas, strict=True):
        se = np.hypot(ref.std(ddof=1), new.std(ddof=1)) / np.sqrt(len(ref))
        same, ratio = bool(np.sign(ref.mean()) == np.sign(new.mean())), abs(new.mean() - ref.mean()) / se
        ok &= same and ratio <= 3.0
        lines.append(
            f"{method:5s} {edm.nfe(steps, method):3d} {name:14s} | {ref.mean():+.3f} ± {ref.std(ddof=1):.3f}"
            f" | {new.mean():+.3f} ± {new.std(ddof=1):.3f} | {'yes' if same else 'NO '}, {ratio:.2f}"
        )
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    """Run the command line (train, train-classifier, reproduce); return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m kexue_utils.skip_tuning")
    sub = parser.add_subparsers(dest="cmd", required=True)
    commands = {
        "train": "train the U-Net and write its checkpoint",
        "train-classifier": "train the feature classifier and write its checkpoint",
        "reproduce": "retrain both; compare hashes and the verdict's ΔFD with the committed checkpoints",
    }
    for cmd, text in commands.items():
        p = sub.add_parser(cmd, help=text)
        p.add_argument("--seed", type=int, default=0)
        if cmd != "train-classifier":
            p.add_argument("--steps", type=int, default=1200)
        if cmd != "reproduce":
            default = checkpoints.UNET_PATH if cmd == "train" else checkpoints.CLASSIFIER_PATH
            p.add_argument("--out", type=Path, default=default)
    args = parser.parse_args(argv)
    if args.cmd == "train-classifier":
        clf = classifier.train(*digits.load_split()[:2], seed=args.seed)
        print(f"wrote {args.out}\nsha256 {checkpoints.save(clf, args.out)}")
        return 0
    params, info = train_unet(seed=args.seed, steps=args.steps, verbose=True)
    if args.cmd == "train":
        digest = checkpoints.save(params, args.out)
        print(f"final loss {info['final_loss']:.4f}; {info['seconds']:.1f} s; wrote {args.out}")
        print(f"sha256 {digest}")
        return 0
    clf = classifier.train(*digits.load_split()[:2], seed=args.seed)
    for what, net in (("U-Net", params), ("classifier", clf)):
        committed = checkpoints.UNET_SHA256 if what == "U-Net" else checkpoints.CLASSIFIER_SHA256
        with tempfile.TemporaryDirectory() as tmp:
            digest = checkpoints.save(net, Path(tmp) / "net.npz")
        same = "equals" if digest == committed else "differs from"
        print(f"retrained {what}: sha256 {digest[:16]}… {same} the committed {committed[:16]}…")
    committed_pair = (checkpoints.load_unet(), checkpoints.load_classifier())
    lines, ok = compare_models(committed_pair, (params, clf))
    print("\n".join(lines))
    print(f"reproduced: {'yes' if ok else 'NO'} (every verdict cell: same sign, within 3 standard errors)")
    return 0 if ok else 1
