"""Tools beside the product: the data generator and the benchmarks.

They import ``audience_pipeline``; the product never imports them. ``audience generate`` reaches
the generator through the ``audience.commands`` entry point (see ``audience_tools.commands``).
"""

from __future__ import annotations

from pathlib import Path

#: The checkout the tools measure (benchmarks run its scripts and keep their data under bench/).
REPO_DIR = Path(__file__).resolve().parent.parent
