"""The OCFL 1.1 validation codes and the registries the validator checks against.

Contract: pure data, no I/O. :data:`CODES` maps every code of the OCFL 1.1
validation-codes list (``E001``-``E112`` errors, ``W001``-``W016`` warnings) to
a one-line summary of its requirement, in our words; the normative text is at
:func:`spec_url`. :data:`DIGEST_ALGORITHMS` is the controlled vocabulary of
digest algorithms (the specification's table plus the community extensions
0001/0009), each with how to compute it and what its values look like.
:data:`REGISTERED_EXTENSIONS` lists the registered extension names (OCFL
extensions repository, 0001-0012).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"

CODES: dict[str, str] = {
    # object structure and declaration
    "E001": "the object root holds only the declaration, inventory, sidecar, version directories, logs and extensions",
    "E002": "the object declaration follows NAMASTE",
    "E003": "exactly one object declaration file in the object root",
    "E004": "the object declaration is named T=dvalue",
    "E005": "the object declaration's T is 0",
    "E006": "the object declaration's dvalue is ocfl_object_ followed by the specification version",
    "E007": "the object declaration holds its dvalue followed by a newline",
    # version directories
    "E008": "an object holds one or more versions",
    "E009": "version numbers start at 1",
    "E010": "version numbers are continuous",
    "E011": "zero-padded version names start with v0",
    "E012": "all version names use one convention (unpadded, or padded to one width)",
    "E013": "a new version follows the naming convention of the earlier ones",
    "E014": "inventories refer to files in version directories by their actual names",
    "E015": "a version directory holds no files but its inventory and sidecar",
    "E016": "a version with files to preserve has a content directory",
    "E017": "contentDirectory contains no forward slash",
    "E018": "contentDirectory is not . or ..",
    "E019": "a contentDirectory is set in the first version of the object",
    "E020": "contentDirectory does not change between versions",
    "E021": "without contentDirectory the content directory is named content",
    "E022": "directories of a version other than its content directory are ignored",
    "E023": "every file in a content directory is in the manifest",
    "E024": "no empty directories inside a content directory",
    # digests
    "E025": "the inventory digestAlgorithm is sha512 or sha256",
    "E026": "fixity algorithms come from the controlled vocabulary",
    "E027": "clients support every fixity algorithm of the specification",
    "E028": "unsupported optional fixity algorithms are ignored",
    "E029": "sha1 digests are hex encoded",
    "E030": "sha256 digests are hex encoded",
    "E031": "sha512 digests are hex encoded",
    "E032": "blake2b-512 digests are hex encoded",
    # inventory
    "E033": "the inventory is UTF-8 JSON with the structure of the specification",
    "E034": "the inventory file is named inventory.json",
    "E035": "content paths use the forward slash as separator",
    "E036": "the inventory has id, type, digestAlgorithm and head",
    "E037": "the object id is unique in its storage root (and the same in every inventory)",
    "E038": "the root inventory type is the inventory URI of the declared specification version",
    "E039": "manifest and state digests are of the inventory digestAlgorithm",
    "E040": "head is the name of the highest version",
    "E041": "the inventory has a manifest block",
    "E042": "content paths are relative to the object root, inside a version's content directory",
    "E043": "the inventory has a versions block",
    "E044": "the versions block is under the key versions",
    "E045": "the versions block is a JSON object",
    "E046": "the versions keys are the names of the version directories",
    "E047": "each version is a JSON object",
    "E048": "each version has created and state",
    "E049": "created is an RFC 3339 date-time with a time zone, to the second",
    "E050": "state keys are digests found exactly in the manifest",
    "E051": "a logical path is path elements joined by /",
    "E052": "logical path elements are not ., .. or empty",
    "E053": "a logical path does not begin or end with /",
    "E054": "user is an object with a name (and address strings)",
    "E055": "additional fixity is under the key fixity",
    "E056": "fixity keys are digest algorithms of the controlled vocabulary",
    "E057": "each fixity block maps digests to arrays of manifest content paths",
    # inventory digests and version inventories
    "E058": "every inventory has a sidecar inventory.json.<digestAlgorithm>",
    "E059": "the sidecar's algorithm is the inventory digestAlgorithm",
    "E060": "the sidecar holds the digest of the inventory",
    "E061": "the sidecar reads DIGEST inventory.json",
    "E062": "the sidecar is written after the inventory's last change",
    "E063": "the object root has an inventory",
    "E064": "the root inventory is the same file as the latest version's inventory",
    "E066": "each prior inventory gives each version the same state as the root inventory",
    "E067": "the object extensions directory holds only extension directories",
    # storage root
    "E069": "a storage root has a root conformance declaration",
    "E070": "ocfl_layout.json is a JSON object with extension and description",
    "E071": "the ocfl_layout.json extension is a registered extension name",
    "E072": "the storage hierarchy holds no files outside objects",
    "E073": "no empty directories under a storage root",
    "E074": "storage roots are independent",
    "E075": "the root declaration follows NAMASTE",
    "E076": "exactly one root declaration file",
    "E077": "the root declaration is named T=dvalue",
    "E078": "the root declaration's T is 0",
    "E079": "the root declaration's dvalue is ocfl_ followed by the specification version",
    "E080": "the root declaration holds its dvalue followed by a newline",
    "E081": "objects conform to the root's specification version or an earlier one",
    "E082": "objects are terminal in the hierarchy or direct children of the root",
    "E083": "the layout maps each object id to exactly one storage path",
    "E084": "no files in intermediate directories of the storage hierarchy",
    "E085": "the storage hierarchy ends in object roots",
    "E087": "validators ignore files in the storage root they do not understand",
    "E088": "the storage root holds only the object hierarchy and extensions as directories",
    "E089": "non-portable file system features are wrapped in an image file",
    "E090": "no hard or symbolic links in the storage hierarchy",
    # manifest and paths
    "E092": "each manifest digest lists content paths of files with that digest",
    "E093": "fixity digests match the files at their content paths",
    "E094": "message is a string",
    "E095": "logical paths of a version are unique and do not conflict",
    "E096": "a digest occurs once in the manifest, regardless of case",
    "E097": "a digest occurs once per fixity algorithm, regardless of case",
    "E098": "a content path is path elements joined by /",
    "E099": "content path elements are not ., .. or empty",
    "E100": "a content path does not begin or end with /",
    "E101": "content paths are unique and do not conflict",
    "E102": "the inventory holds no keys the specification does not define",
    "E103": "each version conforms to the same or a later specification version than the one before",
    "E104": "version directory names are v followed by the version number",
    "E105": "version numbers are positive base-ten integers",
    "E106": "manifest is a JSON object",
    "E107": "each manifest digest is used by a state of some version",
    "E108": "contentDirectory names a direct child of the version directory",
    "E110": "the object id does not change between versions",
    "E111": "fixity is a JSON object",
    "E112": "the storage root extensions directory holds only extension directories",
    # warnings
    "W001": "version names are not zero-padded",
    "W002": "a version directory holds no directory but its content directory",
    "W003": "a version without files to preserve has no content directory",
    "W004": "the inventory digestAlgorithm is sha512",
    "W005": "the object id is a URI",
    "W007": "each version has message and user",
    "W008": "user has an address",
    "W009": "the user address is a URI",
    "W010": "every version directory has an inventory",
    "W011": "prior inventories give each version the same created, message and user",
    "W012": "the logs directory holds records of actions on the object",
    "W013": "object extension directories have registered extension names",
    "W014": "one layout pattern per storage root",
    "W015": "objects are either all top-level or all in a directory hierarchy",
    "W016": "storage root extension directories have registered extension names",
}


def severity_of(code: str) -> str:
    """``error`` for E codes, ``warning`` for W codes."""
    return ERROR if code.startswith("E") else WARNING


def spec_url(code: str) -> str:
    """Where the specification states the requirement of ``code``."""
    return f"https://ocfl.io/1.1/spec/#{code}"


REGISTERED_EXTENSIONS: frozenset[str] = frozenset(
    {
        "0001-digest-algorithms",
        "0002-flat-direct-storage-layout",
        "0003-hash-and-id-n-tuple-storage-layout",
        "0004-hashed-n-tuple-storage-layout",
        "0005-mutable-head",
        "0006-flat-omit-prefix-storage-layout",
        "0007-n-tuple-omit-prefix-storage-layout",
        "0008-schema-registry",
        "0009-digest-algorithms",
        "0010-differential-n-tuple-omit-prefix-storage-layout",
        "0011-direct-clean-path-layout",
        "0012-hash-and-no-prefix-id-n-tuple-storage-layout",
    }
)

SPEC_VERSIONS = ("1.0", "1.1")
"""Specification versions whose objects and roots we validate (oldest first)."""


class _SizeCounter:
    """The ``size`` "digest" of extension 0009: the byte count, in decimal."""

    __slots__ = ("_n",)

    def __init__(self) -> None:
        self._n = 0

    def update(self, data: Any) -> None:
        self._n += len(data)

    def hexdigest(self) -> str:
        return str(self._n)


@dataclass(frozen=True)
class DigestAlgorithm:
    """One algorithm of the controlled vocabulary."""

    name: str
    pattern: re.Pattern[str]
    """What a well-formed value looks like (hex digests match case-insensitively)."""
    factory: Callable[[], Any] | None
    """A new hasher (``update``/``hexdigest``), or None if this Python cannot compute it."""
    hex_code: str | None = None
    """The validation code of a malformed value, where the specification has one."""

    def normalize(self, value: str) -> str:
        return value if self.name == "size" else value.lower()


def _hex(length: int) -> re.Pattern[str]:
    return re.compile(rf"[0-9a-fA-F]{{{length}}}")


def _openssl(name: str) -> Callable[[], Any] | None:
    try:
        hashlib.new(name)
    except ValueError:
        return None
    return lambda: hashlib.new(name)


DIGEST_ALGORITHMS: dict[str, DigestAlgorithm] = {
    a.name: a
    for a in (
        DigestAlgorithm("md5", _hex(32), hashlib.md5),
        DigestAlgorithm("sha1", _hex(40), hashlib.sha1, "E029"),
        DigestAlgorithm("sha256", _hex(64), hashlib.sha256, "E030"),
        DigestAlgorithm("sha512", _hex(128), hashlib.sha512, "E031"),
        DigestAlgorithm("blake2b-512", _hex(128), hashlib.blake2b, "E032"),
        DigestAlgorithm("blake2b-160", _hex(40), lambda: hashlib.blake2b(digest_size=20)),
        DigestAlgorithm("blake2b-256", _hex(64), lambda: hashlib.blake2b(digest_size=32)),
        DigestAlgorithm("blake2b-384", _hex(96), lambda: hashlib.blake2b(digest_size=48)),
        DigestAlgorithm("sha512/256", _hex(64), _openssl("sha512_256")),
        DigestAlgorithm("size", re.compile(r"0|[1-9][0-9]*"), _SizeCounter),
    )
}

CONTENT_ALGORITHMS = ("sha512", "sha256")
"""The algorithms allowed for content addressing (``digestAlgorithm``)."""
