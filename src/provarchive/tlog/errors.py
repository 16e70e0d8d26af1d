"""Errors of the transparency log, its notes, keys and proof bundles.

Contract: every error is an :class:`~provarchive.errors.ArchiveError` with a
one-line ``str()`` and an ``exit_code``. :class:`ProofError` and its
subclasses carry ``reason``: the sentence ``check-proof`` prints after
``Error:``; they never contain key material. Damage to the on-disk log is a
:class:`LogCorruptError`, a :class:`~provarchive.errors.CorruptArchiveError`
(exit code 7) like every other damaged-archive error.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ArchiveError, CorruptArchiveError


class TlogError(ArchiveError):
    """Base class of the transparency-log errors that are not archive damage."""

    exit_code = 1


class ProofError(TlogError):
    """A proof, signature, checkpoint or bundle does not check out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InclusionProofError(ProofError):
    """An inclusion proof does not lead from the leaf to the signed root."""


class ConsistencyProofError(ProofError):
    """A consistency proof does not show that one tree extends the other."""


class MalformedNoteError(ProofError):
    """A signed note that does not follow the C2SP signed-note format."""


class UnknownKeyError(ProofError):
    """A note that no trusted key has signed (wrong key, or no signature at all)."""


class BadSignatureError(ProofError):
    """A note whose signature by a trusted key fails to verify."""


class MalformedCheckpointError(ProofError):
    """A note whose text is not a C2SP tlog-checkpoint."""


class MalformedBundleError(ProofError):
    """A proof bundle that is not valid JSON of the expected shape."""


class LeafMismatchError(ProofError):
    """A bundle whose stated document, version or digests differ from its leaf."""


class FileMismatchError(ProofError):
    """A raw file whose size or digests differ from those the leaf attests."""


class SpanMismatchError(ProofError):
    """A passage whose raw span does not hash to the digest its entry records."""


class LeafFormatError(TlogError):
    """Fields that do not make a valid log leaf (a bug in the caller, or a forged leaf)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid log leaf: {reason}")
        self.reason = reason


class SigningKeyError(TlogError):
    """A signing or verifier key that is missing, malformed or stored unsafely."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"signing key {source}: {reason}" if source else f"signing key: {reason}")
        self.source = source
        self.reason = reason


class LogStateError(TlogError):
    """The log was used out of order (e.g. an append before recovery)."""


class LogCorruptError(CorruptArchiveError):
    """The on-disk transparency log is damaged or disagrees with itself."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(path, reason)


class LogMismatchError(CorruptArchiveError):
    """The log does not extend a signed checkpoint: it was truncated or rewritten."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(path, reason)
