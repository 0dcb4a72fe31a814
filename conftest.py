"""Collection rules shared by the test suite and the doctests."""

import importlib.util

# The example of sklt.nn.accelerate needs the optional ``accelerate`` package (the
# ``scale`` extra); the suite on the lowest supported versions does not install it.
# tests/_accelerate_worker.py is a script the scale test launches, not a test module.
collect_ignore = ["tests/_accelerate_worker.py"]
if importlib.util.find_spec("accelerate") is None:
    collect_ignore.append("sklt/nn/accelerate.py")

# ``make test`` and ``make test-min`` (and so CI) run hypothesis derandomized
# (``--hypothesis-profile=ci``): the same examples on every run, so a green run stays
# green on a fresh clone. Run ``pytest`` without the option to explore new examples.
try:
    from hypothesis import settings
except ImportError:  # pragma: no cover - the test extra installs hypothesis
    pass
else:
    settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
