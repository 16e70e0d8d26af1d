"""The distribution's own metadata (the one place the version is read from).

Contract: no imports from the package, so any module may import it without a cycle.
The version is declared once, in ``pyproject.toml``, and read back from the
installed distribution's metadata.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("provarchive")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
