"""Signing-key files and the signing-key environment variable.

Contract:
- A private key file holds one line, Go's signer key string
  (``PRIVATE+KEY+name+id+base64``). :func:`generate_key` creates it with mode
  0600 from the first byte on (``os.open(..., 0o600)`` on a temporary name in
  the same directory, fsync, then a hard link into place so an existing key
  is never overwritten) and fsyncs the directory.
- :func:`load_key` refuses a key file that group or others may read or
  write, the way ssh does; :func:`signer_from_env` reads
  :data:`ENV_VAR`. No error message ever contains key material.
- A verifier key file holds one line, the note verifier key string; it is
  public (mode 0644).
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path

from ..store import durable
from .errors import SigningKeyError
from .note import Signer, Verifier

ENV_VAR = "PROVARCHIVE_SIGNING_KEY"


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``data`` and ``mode``, durably, failing if it exists."""
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex}"
    with durable.storage_errors(path):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise SigningKeyError(str(path), "the file already exists; not overwritten") from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        durable.fsync_dir(path.parent)


def generate_key(path: Path, name: str) -> Signer:
    """Create a new Ed25519 key named ``name`` in a new file ``path`` (mode 0600)."""
    signer = Signer.generate(name)
    _write_new(path, (signer.to_signer_key() + "\n").encode("ascii"), 0o600)
    return signer


def save_key(path: Path, signer: Signer) -> None:
    """Write an existing key to a new file ``path`` (mode 0600; never overwrites)."""
    _write_new(path, (signer.to_signer_key() + "\n").encode("ascii"), 0o600)


def load_key(path: Path) -> Signer:
    """Read a private key file written by :func:`generate_key` (or Go's note tool)."""
    source = str(path)
    try:
        info = path.stat()
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise SigningKeyError(source, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = durable.describe_os_error(exc) if isinstance(exc, OSError) else "not ASCII"
        raise SigningKeyError(source, reason) from None
    if info.st_mode & 0o077:
        raise SigningKeyError(
            source,
            f"permissions {stat.S_IMODE(info.st_mode):04o} are too open: "
            "others could read it; run chmod 600",
        )
    return Signer.from_signer_key(text, source=source)


def signer_from_env(environ: Mapping[str, str] | None = None) -> Signer | None:
    """The signer in :data:`ENV_VAR`, or None if the variable is unset or empty."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not value:
        return None
    return Signer.from_signer_key(value, source=f"in ${ENV_VAR}")


def load_signer(key_file: Path | None = None, environ: Mapping[str, str] | None = None) -> Signer:
    """The signer from ``key_file`` if given, else from :data:`ENV_VAR`."""
    if key_file is not None:
        return load_key(key_file)
    signer = signer_from_env(environ)
    if signer is None:
        raise SigningKeyError("", f"none given: pass --key FILE or set {ENV_VAR}")
    return signer


def write_verifier_key(path: Path, verifier: Verifier) -> None:
    """Write the public verifier key to a new file ``path``."""
    _write_new(path, (verifier.verifier_key + "\n").encode("utf-8"), 0o644)


def read_verifier_key(value: str | Path) -> Verifier:
    """A verifier key given inline (``name+id+key``) or as a file holding one."""
    if isinstance(value, Path) or Path(value).is_file():
        path = Path(value)
        try:
            value = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = durable.describe_os_error(exc) if isinstance(exc, OSError) else "not UTF-8"
            raise SigningKeyError(str(path), reason) from None
    return Verifier.from_verifier_key(value)
