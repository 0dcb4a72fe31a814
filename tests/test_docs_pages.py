"""The doctests of the top-level documentation pages (quickstart, comparison) run in CI.

The user-guide pages are collected by ``pytest --doctest-glob="*.rst" docs/user_guide``;
the pages at the root of ``docs/`` are not, so this module runs them.
"""

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("page", ["quickstart.rst", "comparison.rst"])
def test_documentation_page_doctests_pass(page):
    result = doctest.testfile(str(DOCS / page), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{page} has no doctest"
    assert result.failed == 0, f"{result.failed} doctest example(s) of {page} failed"
