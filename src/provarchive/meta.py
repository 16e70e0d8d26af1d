"""The distribution's own metadata (the one place the version is declared).

Contract: no imports from the package, so any module may import it without a cycle.
``pyproject.toml`` reads the version from here (``[tool.setuptools.dynamic]``), so it
is declared once; a literal rather than ``importlib.metadata`` because that import
alone costs ~50 ms of every command's start-up (#14: ``--help`` under 0.25 s).
"""

from __future__ import annotations

__version__ = "0.1.0"
