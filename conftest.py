"""Collection rules shared by the test suite and the doctests."""

import importlib.util

# The example of sklt.nn.accelerate needs the optional ``accelerate`` package (the
# ``scale`` extra); the suite on the lowest supported versions does not install it.
# tests/_accelerate_worker.py is a script the scale test launches, not a test module.
collect_ignore = ["tests/_accelerate_worker.py"]
if importlib.util.find_spec("accelerate") is None:
    collect_ignore.append("sklt/nn/accelerate.py")
