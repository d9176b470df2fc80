"""``python -m kexue_utils.skip_tuning``: see :mod:`kexue_utils.skip_tuning.train`."""

from kexue_utils.skip_tuning.train import main

raise SystemExit(main())
