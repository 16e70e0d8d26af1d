"""A standalone OCFL 1.1 validator of objects and storage roots, made by any tool.

Contract:
- :func:`validate_object` and :func:`validate_root` never raise for damage: every
  problem is an :class:`Issue` carrying the OCFL validation code it breaks
  (:mod:`.validation_codes`), the path it concerns (relative to the object or
  the storage root), a one-line message and, where there is one, the expected
  and found value (digests in full). Warnings (W codes) do not make an object
  invalid. A broken inventory yields as many independent issues as can still
  be found, never one generic finding.
- Containment: the validator opens only names it listed itself, one directory at
  a time, through directory descriptors opened with ``O_NOFOLLOW``; a path read
  from an inventory or sidecar only ever *selects* among listed names and is
  never joined onto the file system. So no inventory can make it open, hash,
  stat or list anything outside the object, symbolic links are reported (E090)
  and never followed, and FIFOs or devices are reported (E089), never opened
  for reading. :func:`safe_join` and :func:`open_contained` give other code
  the same guarantee for a single path.
- Each content file is read at most once, in fixed blocks, feeding every
  algorithm any inventory or fixity block of the object records for it; the
  digests computed are returned (:attr:`ObjectReport.digests`) so a caller can
  cross-check its own records without reading a file twice.
- :func:`validate_root` walks the storage hierarchy (the walk alone is
  :func:`iter_object_roots`) and validates objects in this process or, with
  ``jobs > 1``, in a process pool; the issues do not depend on ``jobs``.
- Pure library: no printing, no logging, no state between calls (beyond a
  reused read buffer per thread).
"""

from __future__ import annotations

from .base import Issue, ObjectReport, RootReport, open_contained, relative_path_problem, safe_join
from .objects import validate_object
from .root import iter_object_roots, layout_path, validate_root

__all__ = [
    "Issue",
    "ObjectReport",
    "RootReport",
    "iter_object_roots",
    "layout_path",
    "open_contained",
    "relative_path_problem",
    "safe_join",
    "validate_object",
    "validate_root",
]
