"""Command line: ``python -m benchmarks --suite quick --out benchmark_results``."""

import sys

from .runner import main

if __name__ == "__main__":
    sys.exit(main())
