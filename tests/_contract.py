"""Shared assertion of the bad-input contract tests."""

import pytest


def raises_naming(call, *names, exc=(ValueError, TypeError)):
    """``call()`` raises ``exc`` whose message names one of ``names`` (and is not NumPy's
    ragged-array message)."""
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    assert any(name in message for name in names), f"{names} not named in: {message}"
    assert "setting an array element" not in message
    return info.value
