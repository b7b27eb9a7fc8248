"""Alias of ``audience generate``: write the four synthetic raw CSV files.

python scripts/generate_data.py --customers 360000 --seed 7 --as-of 2025-06-30 --out data/raw
"""

import sys

from audience_pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
