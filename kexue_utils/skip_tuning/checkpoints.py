"""Committed, hash-checked weights of the U-Net and of the feature classifier (book/skip_tuning.md).

A checkpoint is a ``.npz`` of float32 arrays named by their key path ("dec0/conv_a/w"); writing the
arrays in sorted order makes the file's bytes, hence its SHA-256, a function of the weights alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kexue_utils.skip_tuning import classifier, unet

DATA = Path(__file__).resolve().parents[1] / "data"
UNET_PATH = DATA / "skip_tuning_unet.npz"
UNET_SHA256 = "ae0836eb1d55fc00b53f51dfbe9cb3e9a49bd7388d6d539f4bada17e0f6e8c06"
CLASSIFIER_PATH = DATA / "skip_tuning_classifier.npz"
CLASSIFIER_SHA256 = "f55a1408975b44e8d9273532251da81582060dd3bfda03f9f0499b608e16f3a4"


def _path(value: Any) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise TypeError(f"path must be a non-empty str or os.PathLike, got {type(value).__name__}")
    if Path(value).is_dir():
        raise ValueError(f"path {value} is a directory, not a file")
    return Path(value)


def _flat(tree: Any) -> dict[str, np.ndarray]:
    leaves = jax.tree_util.tree_leaves_with_path(tree)
    named = {"/".join(str(k.key) for k in path): np.asarray(v, np.float32) for path, v in leaves}
    return dict(sorted(named.items()))


def save(params: Any, path: str | os.PathLike[str]) -> str:
    """Write the U-Net or classifier ``params`` to ``path`` as float32 arrays; return the file's SHA-256."""
    (classifier.check_params if isinstance(params, dict) and "w1" in params else unet.check_params)(params)
    target = _path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:
        np.savez(fh, **_flat(params))  # type: ignore[arg-type]
    return hashlib.sha256(target.read_bytes()).hexdigest()


def _load(path: Any, sha256: Any, check: Callable[[Any], Any], what: str) -> Any:
    target = _path(path)
    if sha256 is not None and not (isinstance(sha256, str) and re.fullmatch(r"[0-9a-f]{64}", sha256)):
        raise ValueError(f"sha256 must be None or 64 lowercase hexadecimal digits, got {sha256!r}")
    if not target.is_file():
        raise ValueError(f"path {target} does not exist")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if sha256 is not None and digest != sha256:
        raise ValueError(f"path {target} has sha256 {digest}, expected {sha256}")
    tree: dict[str, Any] = {}
    try:
        with np.load(target, allow_pickle=False) as z:
            for name in z.files:
                *parents, leaf = name.split("/")
                node = tree
                for key in parents:
                    node = node.setdefault(key, {})
                node[leaf] = jnp.asarray(z[name])
        return check(tree)
    except (OSError, TypeError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"path {target} is not a .npz checkpoint of the {what} ({exc})") from exc


def load_unet(path: str | os.PathLike[str] = UNET_PATH, sha256: str | None = UNET_SHA256) -> dict[str, Any]:
    """Return the U-Net parameters stored at ``path``; ``ValueError`` unless its SHA-256 is ``sha256``.

    Pass ``sha256=None`` to load a freshly retrained checkpoint without the check.
    """
    return _load(path, sha256, unet.check_params, "U-Net")


def load_classifier(
    path: str | os.PathLike[str] = CLASSIFIER_PATH, sha256: str | None = CLASSIFIER_SHA256
) -> dict[str, Any]:
    """Return the feature classifier stored at ``path``; ``ValueError`` unless its SHA-256 is ``sha256``."""
    return _load(path, sha256, classifier.check_params, "classifier")
