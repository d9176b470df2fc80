"""Helpers for the chapter *Skip-tuning* (book/skip_tuning.md), one module per part of the pipeline.

- :mod:`~kexue_utils.skip_tuning.digits` — the 8×8 digits, images in [−1, 1];
- :mod:`~kexue_utils.skip_tuning.unet` — the U-Net with scalable skips, and an EDM-style block;
- :mod:`~kexue_utils.skip_tuning.edm` — preconditioning, noise levels, Euler and Heun samplers;
- :mod:`~kexue_utils.skip_tuning.classifier` — the digit classifier that supplies the features;
- :mod:`~kexue_utils.skip_tuning.checkpoints` — the committed, hash-checked weights of both;
- :mod:`~kexue_utils.skip_tuning.experiment` — sweeps over skip scales and the mechanism measurements;
- :mod:`~kexue_utils.skip_tuning.train` — training and the command line
  (``python -m kexue_utils.skip_tuning train | train-classifier | reproduce``).

Equation labels (``skip-...``) refer to the chapter.
"""
