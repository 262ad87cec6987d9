"""The examples in pmkit's docstrings run as tests: an example that drifts from the code fails."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pmkit

MODULES = sorted(info.name for info in pkgutil.walk_packages(pmkit.__path__, "pmkit.") if info.name != "pmkit.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    failed, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failed == 0
