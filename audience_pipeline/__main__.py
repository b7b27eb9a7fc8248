"""``python -m audience_pipeline``: the ``audience`` command."""

import sys

from audience_pipeline.cli import main

sys.exit(main())
