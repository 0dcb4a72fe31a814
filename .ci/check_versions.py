"""Fail unless the installed versions equal the pins of a constraints file.

Usage: python .ci/check_versions.py .ci/min-versions.txt
"""

import sys
from importlib.metadata import version

from packaging.requirements import Requirement

wrong = []
with open(sys.argv[1]) as f:
    for line in f:
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        pinned = next(iter(req.specifier)).version
        installed = version(req.name).split("+")[0]
        print(f"{req.name}: {installed} (pinned {pinned})")
        if installed != pinned:
            wrong.append(f"{req.name} {installed} != {pinned}")
if wrong:
    sys.exit("Not the minimum versions: " + "; ".join(wrong))
