"""C2SP signed notes (c2sp.org/signed-note) with Ed25519, as Go's golang.org/x/mod/sumdb/note.

Contract:
- A key name is non-empty UTF-8 with no Unicode white space and no ``+``.
  The key id is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` (big endian).
- Verifier key: ``name+hex8(key id)+base64(0x01 || public key)``; signer key:
  ``PRIVATE+KEY+name+hex8(key id)+base64(0x01 || seed)``, both exactly Go's strings.
- :func:`sign` returns ``text + "\\n" + "— name base64(key id || signature)\\n"``
  per signer (em dash U+2014); the text must end in a newline and hold no
  control character but newline.
- :func:`open_note` parses like Go's ``note.Open`` (split at the last blank
  line, at most 100 signatures, duplicates skipped), verifies every signature
  whose (name, id) is a given verifier's, and returns the :class:`Note`; it
  raises :class:`MalformedNoteError`, :class:`BadSignatureError` (a known key's
  signature fails: the whole note is rejected) or :class:`UnknownKeyError` (no
  known key signed it, or ``allow_unknown=False`` and another key did).
  Base64 is decoded strictly (see :mod:`.encoding`); Go's own output always is.
- A :class:`Signer` never shows its private key in ``repr``/``str``; only
  :meth:`Signer.to_signer_key` returns it, for writing a key file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .encoding import b64decode, b64encode
from .errors import BadSignatureError, MalformedNoteError, SigningKeyError, UnknownKeyError

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
# Unicode White_Space (what Go's unicode.IsSpace reports), which key names exclude.
_WHITE_SPACE = re.compile("[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_HEX8 = re.compile("[0-9a-fA-F]{8}")


def valid_key_name(name: str) -> bool:
    """True for a usable key name (also the rule for a checkpoint's origin here)."""
    return bool(name) and "+" not in name and not _WHITE_SPACE.search(name)


def key_id(name: str, public_key: bytes) -> int:
    """The 32-bit key id of an Ed25519 key under ``name``."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    return int.from_bytes(hashlib.sha256(material).digest()[:4], "big")


def _check_name(name: str, source: str) -> None:
    if not valid_key_name(name):
        raise SigningKeyError(source, f"invalid key name {name!r} (no spaces or '+')")


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 public key with its name and id."""

    name: str
    key_id: int
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Verifier:
        _check_name(name, "verifier key")
        if len(public_key) != 32:
            raise SigningKeyError("verifier key", "an Ed25519 public key has 32 bytes")
        return cls(name, key_id(name, public_key), public_key)

    @classmethod
    def from_verifier_key(cls, vkey: str) -> Verifier:
        """Parse ``name+hex8+base64(0x01 || key)``."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not _HEX8.fullmatch(parts[1]):
            raise SigningKeyError("verifier key", "expected NAME+KEYID+BASE64KEY")
        name, hex_id, b64 = parts
        try:
            material = b64decode(b64)
        except ValueError:
            raise SigningKeyError("verifier key", "the key is not valid base64") from None
        if not material or material[0] != ALG_ED25519:
            raise SigningKeyError("verifier key", "not an Ed25519 key (type byte 0x01)")
        verifier = cls.from_public_key(name, material[1:])
        if verifier.key_id != int(hex_id, 16):
            raise SigningKeyError("verifier key", "the key id does not match the key")
        return verifier

    @property
    def verifier_key(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64encode(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """An Ed25519 signing key with its name; ``repr`` shows the name and id only."""

    __slots__ = ("_private", "key_id", "name", "public_key")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name, "signer key")
        self.name = name
        self._private = private_key
        self.public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id(name, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        if len(seed) != 32:
            raise SigningKeyError("signer key", "an Ed25519 seed has 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_signer_key(cls, skey: str, *, source: str = "signer key") -> Signer:
        """Parse Go's ``PRIVATE+KEY+name+hex8+base64(0x01 || seed)``; errors never echo it."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _HEX8.fullmatch(parts[3]):
            raise SigningKeyError(source, "expected PRIVATE+KEY+NAME+KEYID+BASE64KEY")
        _check_name(parts[2], source)
        try:
            material = b64decode(parts[4])
        except ValueError:
            raise SigningKeyError(source, "the key is not valid base64") from None
        if len(material) != 33 or material[0] != ALG_ED25519:
            raise SigningKeyError(source, "not an Ed25519 key (type byte 0x01 and 32 bytes)")
        signer = cls.from_seed(parts[2], material[1:])
        if signer.key_id != int(parts[3], 16):
            raise SigningKeyError(source, "the key id does not match the key")
        return signer

    def to_signer_key(self) -> str:
        """The secret key string, for a key file or the environment. Handle with care."""
        seed = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{b64encode(bytes([ALG_ED25519]) + seed)}"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.public_key)

    def sign_bytes(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id:08x})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Signer is not picklable: it would copy the private key")


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key id, and the signature as written (base64)."""

    name: str
    key_id: int
    signature: str

    @property
    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {self.signature}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text and which signatures were verified."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _check_text(text: str) -> None:
    if _CONTROL.search(text):
        raise MalformedNoteError("malformed signed note: control character in the text")


def sign(text: str, *signers: Signer) -> str:
    """The signed note of ``text`` (which must end in a newline) by each signer."""
    if not text.endswith("\n"):
        raise MalformedNoteError("malformed signed note: the text must end in a newline")
    if not signers:
        raise ValueError("sign() needs at least one signer")
    _check_text(text)
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        raw = signer.key_id.to_bytes(4, "big") + signer.sign_bytes(message)
        lines.append(NoteSignature(signer.name, signer.key_id, b64encode(raw)).line)
    return text + "\n" + "".join(lines)


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines, checking only the syntax."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("malformed signed note: not UTF-8") from None
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("malformed signed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("malformed signed note: no signature, or no final newline")
    signatures = []
    for line in block[:-1].split("\n"):
        signatures.append(_parse_signature_line(line))
        if len(signatures) > MAX_SIGNATURES:
            raise MalformedNoteError(f"malformed signed note: over {MAX_SIGNATURES} signatures")
    return text, signatures


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNoteError(f"malformed signed note: {line[:40]!r} is not a signature line")
    name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        raw = b64decode(b64)
    except ValueError:
        raw = b""
    if not valid_key_name(name) or len(raw) < 5:
        raise MalformedNoteError(f"malformed signed note: bad signature line for {name!r}")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), b64)


def open_note(
    note: str | bytes, verifiers: Sequence[Verifier], *, allow_unknown: bool = True
) -> Note:
    """Verify ``note`` against trusted ``verifiers``; see the module contract for errors."""
    text, signatures = parse_note(note)
    known = _index(verifiers)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if any((v.name, v.key_id) == (sig.name, sig.key_id) for v in verified):
            continue
        if not verifier.verify(message, b64decode(sig.signature)[4:]):
            raise BadSignatureError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        verified.append(sig)
    if not verified:
        wanted = ", ".join(f"{v.name}+{v.key_id:08x}" for v in known.values()) or "no key"
        found = ", ".join(f"{s.name}+{s.key_id:08x}" for s in unverified)
        raise UnknownKeyError(
            f"the note is not signed by the trusted key ({wanted}); it is signed by {found}"
        )
    if unverified and not allow_unknown:
        found = ", ".join(f"{s.name}+{s.key_id:08x}" for s in unverified)
        raise UnknownKeyError(f"the note also carries signatures by untrusted keys: {found}")
    return Note(text, tuple(verified), tuple(unverified))


def _index(verifiers: Sequence[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_id), v)
        if other.public_key != v.public_key:
            raise SigningKeyError(
                "verifier keys", f"two different keys are named {v.name}+{v.key_id:08x}"
            )
    return known
