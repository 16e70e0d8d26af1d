"""Verify: fixity of every stored byte and consistency of everything derived from it.

Contract:
- :func:`verify` reads, never repairs, and never takes the writer lock. It
  collects every problem as a :class:`~provarchive.findings.Finding` instead of
  stopping at the first, and never raises for damage it was asked to look for.
- Store: the root declaration and layout; for every object its declaration,
  inventory, sidecar, version inventories, version directories, stray files,
  and every content file re-hashed (sha512 + sha256 in one read) against the
  manifest and fixity block.
- Catalog against store: documents, versions, digests and paths both ways.
- Derived data: every passage's digest and byte span, every derivation's
  output digest; the search index against the catalog (missing, extra, stale,
  altered entries); with ``rederive``, a fresh run of the recorded cleaner.
- Seeds folder drift (new, changed, missing files) from a git-style stat cache:
  only files whose stat changed are hashed (``full=True`` hashes all).
- A concurrent writer is tolerated: an inventory caught between its two atomic
  replacements is re-read, and versions journaled but not yet catalogued are
  reported as ``PENDING_WRITE`` (info), not as damage.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import SeedStat, new_event, queries
from .digests import Digests, hash_bytes, hash_stream, sha256_hex, sha256_tagged
from .errors import ArchiveError, CatalogError, CorruptArchiveError
from .findings import Finding, VerifyReport
from .home import Home
from .search.sync import audit_index
from .seeds import same_stat, scan, stat_row, stat_trusted
from .store.ocfl import (
    INVENTORY,
    JOURNAL,
    LAYOUT_CONFIG,
    LAYOUT_EXTENSION,
    OBJECT_DECLARATION,
    ROOT_DECLARATION,
    SIDECAR,
    SPEC_VERSION,
    ObjectState,
    name_for_object_id,
    object_id_for,
    object_path_for,
    parse_sidecar,
    versions_from_inventory,
)
from .store.storage import Store

log = logging.getLogger(__name__)

_HEX3 = re.compile(r"^[0-9a-f]{3}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_VERSION_DIR = re.compile(r"^v([1-9][0-9]*)$")
_RETRIES = 3
_CHUNK = 200
_KEEP_BYTES = 64 * 1024 * 1024


@dataclass
class _CatalogVersion:
    number: int
    sha256: str
    sha512: str
    size: int
    content_path: str


@dataclass
class _Context:
    home: Home
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(
        default_factory=lambda: {
            "objects": 0,
            "versions": 0,
            "content_files": 0,
            "bytes": 0,
            "seeds": 0,
        }
    )
    pending: set[str] = field(default_factory=set)
    catalog: dict[str, list[_CatalogVersion]] | None = None
    states: dict[str, ObjectState] = field(default_factory=dict)
    content: dict[tuple[str, str], Digests] = field(default_factory=dict)
    derived: dict[str, tuple[list[Any], dict[int, list[Any]]]] = field(default_factory=dict)
    """Catalog rows for the derived checks of the current chunk of objects, by document."""
    raw: dict[str, bytes] = field(default_factory=dict)
    damaged: set[str] = field(default_factory=set)
    """Bytes of the object being checked, by content path (read once, used twice)."""

    def add(self, code: str, detail: str = "", **kw: Any) -> None:
        self.findings.append(Finding(code, detail, **kw))


ProgressCallback = Callable[[str, int, int], None]

_EXPLAINS = {
    "CATALOG_DOCUMENT_MISSING": "INDEX_ENTRY_EXTRA",
    "CATALOG_VERSION_MISSING": "INDEX_ENTRY_EXTRA",
    "DERIVATION_MISSING": "INDEX_ENTRY_EXTRA",
    "CATALOG_DIGEST_MISMATCH": "INDEX_ENTRY_ALTERED",
    "PASSAGE_SPAN_MISMATCH": "INDEX_ENTRY_ALTERED",
    "PASSAGE_DIGEST_MISMATCH": "INDEX_ENTRY_ALTERED",
}
"""A damaged catalog row makes the (intact) index disagree with it: report the cause once."""


def verify(
    home: Home,
    *,
    full: bool = False,
    check_seeds: bool = True,
    rederive: bool = False,
    on_progress: ProgressCallback | None = None,
) -> VerifyReport:
    """Check the whole archive; see the module docstring for what is checked."""
    ctx = _Context(home)
    store = home.store
    if not store.exists():
        ctx.add("STORE_MISSING", str(store.root), path=str(store.root))
        return VerifyReport(ctx.findings, ctx.checked)
    _check_staging(ctx)
    _load_catalog(ctx)
    _check_root(ctx, store)
    dirs = list(_object_dirs(ctx, store))
    for start in range(0, len(dirs), _CHUNK):
        chunk = dirs[start : start + _CHUNK]
        # Derived data of a whole chunk of objects in two queries, not two per object.
        _prefetch_derived(ctx, [d.relative_to(store.root).as_posix() for d in chunk])
        for i, directory in enumerate(chunk, start + 1):
            _check_object(ctx, store, directory)
            if on_progress is not None:
                on_progress("objects", i, len(dirs))
    _cross_check(ctx)
    if ctx.catalog is not None:
        # Entries left over for a document whose catalog rows are missing are a
        # consequence of that finding, not a second problem: report the cause once.
        explained = {(f.document, _EXPLAINS[f.code]) for f in ctx.findings if f.code in _EXPLAINS}
        ctx.findings.extend(f for f in audit_index(home) if (f.document, f.code) not in explained)
    if rederive and ctx.catalog is not None:
        _check_rederive(ctx)
    if check_seeds:
        _check_seeds(ctx, full=full, on_progress=on_progress)
    _log_event(ctx)
    return VerifyReport(ctx.findings, ctx.checked)


# -- staging and catalog ---------------------------------------------------------------------


def _check_staging(ctx: _Context) -> None:
    staging = ctx.home.config.staging
    if not staging.is_dir():
        return
    for entry in sorted(staging.iterdir()):
        journal = entry / JOURNAL
        if journal.is_file():
            with contextlib.suppress(OSError, ValueError):
                ctx.pending.update(str(item["name"]) for item in json.loads(journal.read_bytes()))
        ctx.add("STAGING_LEFTOVER", entry.name, path=str(entry))


def _load_catalog(ctx: _Context) -> None:
    home = ctx.home
    if home.config.db_url is None and not home.catalog_path.exists():
        ctx.add(
            "CATALOG_UNREADABLE",
            "the catalog file is missing; 'provarchive rebuild' recreates it",
            path=str(home.catalog_path),
        )
        return
    catalog = home.catalog
    try:
        catalog.require_current_schema()
        with catalog.session() as s:
            rows = queries.version_rows(s)
            result: dict[str, list[_CatalogVersion]] = {}
            for name, number, sha256, sha512, size, content_path in rows:
                versions = result.setdefault(name, [])
                if number is not None:
                    versions.append(_CatalogVersion(number, sha256, sha512, size, content_path))
    except CatalogError as exc:
        ctx.add("CATALOG_UNREADABLE", str(exc), path=ctx.home.catalog_url)
        return
    ctx.catalog = result


# -- storage root ------------------------------------------------------------------------------


def _check_root(ctx: _Context, store: Store) -> None:
    declaration = store.root / ROOT_DECLARATION
    try:
        if declaration.read_text() != f"ocfl_{SPEC_VERSION}\n":
            ctx.add("STORE_MISSING", "declaration content altered", path=str(declaration))
    except OSError as exc:
        ctx.add("STORE_MISSING", str(exc), path=str(declaration))
    config = store.root / "extensions" / LAYOUT_EXTENSION / "config.json"
    try:
        if json.loads(config.read_bytes()) != LAYOUT_CONFIG:
            ctx.add(
                "LAYOUT_CONFIG_INVALID", "parameters differ from 0004 sha256/3/3", path=str(config)
            )
    except (OSError, ValueError) as exc:
        ctx.add("LAYOUT_CONFIG_INVALID", str(exc), path=str(config))


def _object_dirs(ctx: _Context, store: Store) -> list[Path]:
    """Walk the 0004 layout (three 3-hex levels, then the 64-hex object root)."""
    found: list[Path] = []

    def walk(directory: Path, depth: int) -> None:
        try:
            entries = sorted(directory.iterdir())
        except OSError as exc:
            ctx.add("STRAY_PATH", f"unreadable directory: {exc}", path=str(directory))
            return
        if not entries and depth > 0:
            ctx.add("STRAY_PATH", "empty directory", path=str(directory))
        for entry in entries:
            if depth == 0 and entry.name in (ROOT_DECLARATION, "extensions"):
                continue
            pattern = _HEX3 if depth < 3 else _HEX64
            if entry.is_dir() and not entry.is_symlink() and pattern.match(entry.name):
                if depth < 3:
                    walk(entry, depth + 1)
                else:
                    found.append(entry)
            else:
                ctx.add("STRAY_PATH", "not part of the storage layout", path=str(entry))

    walk(store.root, 0)
    return found


# -- objects ---------------------------------------------------------------------------------------


def _sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


def _check_object(ctx: _Context, store: Store, directory: Path) -> None:
    for attempt in range(_RETRIES):
        local: list[Finding] = []
        state = _check_object_once(ctx, store, directory, local)
        transient = any(
            f.code in ("INVENTORY_MODIFIED", "SIDECAR_MISMATCH", "VERSION_DIR_EXTRA") for f in local
        )
        if not transient or attempt == _RETRIES - 1:
            break
        time.sleep(0.05 * (attempt + 1))  # a writer may be between its two renames
    ctx.findings.extend(local)
    ctx.checked["objects"] += 1
    if state is not None:
        ctx.states[state.name] = state
        if ctx.catalog is not None and state.name in ctx.catalog:
            _check_derived(ctx, state, directory)
        ctx.raw.clear()
        ctx.damaged.clear()


def _check_object_once(
    ctx: _Context, store: Store, directory: Path, out: list[Finding]
) -> ObjectState | None:
    rel = directory.relative_to(store.root).as_posix()

    def add(
        code: str, detail: str = "", path: Path | None = None, document: str | None = None
    ) -> None:
        out.append(Finding(code, detail, document=document, path=str(path or directory)))

    declaration = directory / OBJECT_DECLARATION
    try:
        if declaration.read_text() != f"ocfl_object_{SPEC_VERSION}\n":
            add("OBJECT_DECLARATION_INVALID", "content altered", declaration)
    except OSError:
        add("OBJECT_DECLARATION_INVALID", "missing", declaration)
    inv_path = directory / INVENTORY
    try:
        inv_bytes = inv_path.read_bytes()
    except OSError:
        add("INVENTORY_MISSING", rel, inv_path)
        return None
    try:
        inventory = json.loads(inv_bytes)
        name = name_for_object_id(inventory["id"])
    except (ValueError, KeyError, TypeError) as exc:
        add("INVENTORY_INVALID", f"{rel}: {exc}", inv_path)
        return None
    try:
        versions = versions_from_inventory(inventory, inv_path)
    except CorruptArchiveError as exc:
        add("INVENTORY_INVALID", exc.reason, inv_path, name)
        return None
    if object_path_for(inventory["id"]) != rel:
        add(
            "OBJECT_PATH_MISMATCH",
            f"{name!r} belongs at {object_path_for(inventory['id'])}",
            directory,
            name,
        )
    head = len(versions)
    # Sidecar and the head version's copy of the inventory.
    head_copy = directory / f"v{head}" / INVENTORY
    try:
        copy_bytes: bytes | None = head_copy.read_bytes()
    except OSError:
        copy_bytes = None
    sidecar = directory / SIDECAR
    try:
        recorded = parse_sidecar(sidecar.read_bytes())
    except OSError:
        add("SIDECAR_MISSING", rel, sidecar, name)
        recorded = None
    else:
        actual = _sha512(inv_bytes)
        if recorded != actual:
            if (
                copy_bytes is not None
                and copy_bytes != inv_bytes
                and recorded == _sha512(copy_bytes)
            ):
                add(
                    "INVENTORY_MODIFIED",
                    f"{name}: inventory differs from the one its sidecar and v{head} record",
                    inv_path,
                    name,
                )
            elif copy_bytes == inv_bytes:
                add(
                    "SIDECAR_MISMATCH",
                    f"{name}: sidecar records {str(recorded)[:16]}..., inventory is {actual[:16]}...",
                    sidecar,
                    name,
                )
            else:
                add(
                    "INVENTORY_MODIFIED",
                    f"{name}: inventory matches neither its sidecar nor its v{head} copy",
                    inv_path,
                    name,
                )
    # Version directories and their inventory copies.
    numbers = set()
    for entry in directory.iterdir():
        m = _VERSION_DIR.match(entry.name)
        if m and entry.is_dir():
            numbers.add(int(m.group(1)))
    for number in range(1, head + 1):
        vdir = directory / f"v{number}"
        if number not in numbers:
            add("VERSION_DIR_MISSING", f"{name} v{number}", vdir, name)
            continue
        try:
            vbytes = (vdir / INVENTORY).read_bytes()
            vrecorded = parse_sidecar((vdir / SIDECAR).read_bytes())
        except OSError as exc:
            add("VERSION_INVENTORY_MISMATCH", f"{name} v{number}: {exc.strerror}", vdir, name)
            continue
        if vrecorded != _sha512(vbytes):
            add(
                "VERSION_INVENTORY_MISMATCH",
                f"{name} v{number}: copy does not match its sidecar",
                vdir / INVENTORY,
                name,
            )
        elif (
            number == head
            and vbytes != inv_bytes
            and not any(f.code == "INVENTORY_MODIFIED" for f in out)
        ):
            add(
                "VERSION_INVENTORY_MISMATCH",
                f"{name} v{number}: differs from the root inventory",
                vdir / INVENTORY,
                name,
            )
    for number in sorted(numbers):
        if number > head:
            add(
                "VERSION_DIR_EXTRA",
                f"{name} v{number} (inventory head is v{head})",
                directory / f"v{number}",
                name,
            )
    # Files: everything present must be expected; everything expected present and intact.
    expected = {OBJECT_DECLARATION, INVENTORY, SIDECAR}
    for number in range(1, head + 1):
        expected.update({f"v{number}/{INVENTORY}", f"v{number}/{SIDECAR}"})
    manifest: dict[str, list[str]] = inventory.get("manifest", {})
    fixity: dict[str, list[str]] = inventory.get("fixity", {}).get("sha256", {})
    sha256_of = {p: d for d, paths in fixity.items() for p in paths}
    content_paths = {p: d for d, paths in manifest.items() for p in paths}
    expected.update(content_paths)
    for dirpath, _dirnames, filenames in os.walk(directory):
        base = Path(dirpath)
        for filename in filenames:
            relpath = (base / filename).relative_to(directory).as_posix()
            top = relpath.split("/", 1)[0]
            if relpath not in expected and not (_VERSION_DIR.match(top) and int(top[1:]) > head):
                add("EXTRA_FILE", f"{name}: {relpath}", base / filename, name)
    catalog_sizes = {
        v.content_path: v.size for v in (ctx.catalog or {}).get(name, []) if v.size >= 0
    }
    for content_path, sha512 in sorted(content_paths.items()):
        path = directory / content_path
        try:
            if path.stat().st_size <= _KEEP_BYTES:
                data = path.read_bytes()
                digests = hash_bytes(data)
                ctx.raw[content_path] = data
            else:
                with open(path, "rb") as fh:
                    digests = hash_stream(fh)
        except FileNotFoundError:
            add("CONTENT_MISSING", f"{name}: {content_path}", path, name)
            continue
        except OSError as exc:
            add(
                "CONTENT_MISSING", f"{name}: {content_path} unreadable ({exc.strerror})", path, name
            )
            continue
        ctx.checked["content_files"] += 1
        ctx.checked["bytes"] += digests.size
        ctx.content[(name, content_path)] = digests
        expected_size = catalog_sizes.get(content_path)
        if digests.sha512 != sha512:
            # Damaged bytes: the passages' spans are checked against intact bytes only,
            # so one flipped bit is one finding, not one per passage.
            ctx.raw.pop(content_path, None)
            ctx.damaged.add(content_path)
            if expected_size is not None and expected_size != digests.size:
                add(
                    "CONTENT_SIZE_MISMATCH",
                    f"{name}: {content_path} is {digests.size} bytes, {expected_size} were stored",
                    path,
                    name,
                )
            else:
                add(
                    "CONTENT_DIGEST_MISMATCH",
                    f"{name}: {content_path} sha512 is {digests.sha512[:16]}..., expected {sha512[:16]}...",
                    path,
                    name,
                )
        elif sha256_of.get(content_path) != digests.sha256:
            add(
                "FIXITY_MISMATCH",
                f"{name}: {content_path} sha256 is {digests.sha256}, fixity says {sha256_of.get(content_path)}",
                path,
                name,
            )
    ctx.checked["versions"] += head
    return ObjectState(name, inventory["id"], rel, inventory, versions)


# -- derived data -----------------------------------------------------------------------------------


def _prefetch_derived(ctx: _Context, object_paths: list[str]) -> None:
    """Load versions, current derivations and passages of a chunk of objects."""
    ctx.derived = {}
    if ctx.catalog is None or not object_paths:
        return
    try:
        with ctx.home.catalog.session() as s:
            rows, by_derivation = queries.derived_rows(s, object_paths)
    except ArchiveError as exc:
        ctx.add("CATALOG_UNREADABLE", str(exc))
        ctx.catalog = None
        return
    for name, number, content_path, did, encoding, output in rows:
        versions, passages = ctx.derived.setdefault(name, ([], {}))
        versions.append((number, content_path, did, encoding, output))
        if did is not None:
            passages[did] = by_derivation.get(did, [])


def _check_derived(ctx: _Context, state: ObjectState, directory: Path) -> None:
    """Every version has a current derivation; every passage's digest matches its text
    and its byte span decodes to it; every derivation's output digest matches."""
    from .cleaning.passages import check_passage

    name = state.name
    rows, passages = ctx.derived.get(name, ([], {}))
    for number, content_path, did, encoding, output in rows:
        if number > state.head:
            continue  # not in the store at all: reported as STORE_VERSION_MISSING
        if did is None:
            code = "PENDING_WRITE" if name in ctx.pending else "DERIVATION_MISSING"
            ctx.add(code, f"{name} v{number}", document=name)
            continue
        items = passages.get(did, [])
        ctx.checked["passages"] = ctx.checked.get("passages", 0) + len(items)
        raw = ctx.raw.get(content_path)
        if content_path in ctx.damaged:
            raw = None
        elif raw is None and items and (directory / content_path).is_file():
            raw = (directory / content_path).read_bytes()
        for pid, text, digest, start, end in items:
            if sha256_hex(text) != digest:
                ctx.add(
                    "PASSAGE_DIGEST_MISMATCH",
                    f"{pid}: text no longer matches sha256 {digest[:16]}...",
                    document=name,
                )
            if (
                raw is not None
                and encoding is not None
                and not check_passage(raw, encoding, start, end, text)
            ):
                ctx.add(
                    "PASSAGE_SPAN_MISMATCH",
                    f"{pid}: bytes [{start}, {end}) do not decode to the passage text",
                    document=name,
                )
        if sha256_tagged("\n".join(t for _p, t, _d, _s, _e in items)) != output:
            ctx.add(
                "DERIVATION_OUTPUT_MISMATCH",
                f"{name} v{number}: passages do not give the recorded output digest",
                document=name,
            )


def _check_rederive(ctx: _Context) -> None:
    from .derivations import rederive_drift

    def raw_of(name: str, number: int) -> bytes:
        return ctx.home.read_bytes(name, number)

    try:
        drifts = rederive_drift(ctx.home, raw_of)
    except ArchiveError as exc:
        ctx.add("CATALOG_UNREADABLE", str(exc))
        return
    for d in drifts:
        code = "DERIVATION_DRIFT" if d.kind == "drift" else "DERIVATION_UNAVAILABLE"
        ctx.add(code, f"{d.document} v{d.version}: {d.detail}", document=d.document)


# -- catalog against store -----------------------------------------------------------------------


def _cross_check(ctx: _Context) -> None:
    if ctx.catalog is None:
        return
    for name, state in sorted(ctx.states.items()):
        versions = ctx.catalog.get(name)
        pending = name in ctx.pending
        if versions is None:
            ctx.add(
                "PENDING_WRITE" if pending else "CATALOG_DOCUMENT_MISSING",
                name,
                document=name,
                path=state.path,
            )
            continue
        by_number = {v.number: v for v in versions}
        for sv in state.versions:
            if sv.withdrawn:
                continue  # a withdrawal holds no file: the catalog has no version row for it
            cv = by_number.get(sv.number)
            if cv is None:
                ctx.add(
                    "PENDING_WRITE" if pending else "CATALOG_VERSION_MISSING",
                    f"{name} v{sv.number}",
                    document=name,
                    path=state.path,
                )
            elif (cv.sha512, cv.sha256, cv.content_path) != (sv.sha512, sv.sha256, sv.content_path):
                what = (
                    "sha512"
                    if cv.sha512 != sv.sha512
                    else "sha256"
                    if cv.sha256 != sv.sha256
                    else "content path"
                )
                ctx.add(
                    "CATALOG_DIGEST_MISMATCH",
                    f"{name} v{sv.number}: catalog {what} differs from the inventory",
                    document=name,
                    path=state.path,
                )
        for cv in versions:
            if cv.number > state.head:
                ctx.add(
                    "STORE_VERSION_MISSING",
                    f"{name} v{cv.number} (store head is v{state.head})",
                    document=name,
                    path=state.path,
                )
    for name in sorted(set(ctx.catalog) - set(ctx.states)):
        ctx.add("STORE_OBJECT_MISSING", name, document=name, path=object_path_for_name(name))


def object_path_for_name(name: str) -> str:
    return object_path_for(object_id_for(name))


# -- seeds drift -------------------------------------------------------------------------------------


def _check_seeds(ctx: _Context, *, full: bool, on_progress: ProgressCallback | None) -> None:
    config = ctx.home.config
    if not ctx.home.seeds.is_dir():
        return
    seeds, problems = scan(ctx.home.seeds, exclude=[config.root])
    problems = [p for p in problems if p.status != "ignored"]
    for problem in problems:
        ctx.add(
            "SEED_UNARCHIVABLE",
            f"{problem.path}: {problem.reason}",
            document=problem.name,
            path=problem.path,
        )
    catalog = ctx.catalog or {}
    heads = {name: versions[-1] for name, versions in catalog.items() if versions}
    stats: dict[str, SeedStat] = {}
    if ctx.catalog is not None:
        with contextlib.suppress(ArchiveError), ctx.home.catalog.session() as s:
            stats = queries.load_seed_stats(s)
    updates: list[dict[str, Any]] = []
    for i, seed in enumerate(seeds, 1):
        ctx.checked["seeds"] += 1
        head = heads.get(seed.name)
        if on_progress is not None:
            on_progress("seeds", i, len(seeds))
        if head is None:
            ctx.add("SEED_NEW", seed.name, document=seed.name, path=str(seed.path))
            continue
        try:
            before = os.stat(seed.path)
            if not full and stat_trusted(stats.get(seed.name), before, head.sha512):
                continue
            with open(seed.path, "rb") as fh:
                digests = hash_stream(fh)
                after = os.fstat(fh.fileno())
        except OSError as exc:
            ctx.add(
                "SEED_UNARCHIVABLE",
                f"{seed.path}: {exc.strerror}",
                document=seed.name,
                path=str(seed.path),
            )
            continue
        if same_stat(before, after):
            updates.append(stat_row(seed.name, after, digests.sha256, digests.sha512))
        if digests.sha512 != head.sha512:
            ctx.add(
                "SEED_CHANGED",
                f"{seed.name} differs from v{head.number}",
                document=seed.name,
                path=str(seed.path),
            )
    withdrawn = {name for name, state in ctx.states.items() if state.withdrawn}
    gone = set(catalog) - {s.name for s in seeds} - {p.name for p in problems} - withdrawn
    for name in sorted(gone):
        ctx.add("SEED_MISSING", name, document=name)
    if updates and ctx.catalog is not None:
        # The stat cache is only a cache: a read-only or busy catalog just means
        # the next verify hashes these files again.
        with contextlib.suppress(ArchiveError), ctx.home.catalog.session() as s:
            queries.save_seed_stats(s, updates, known=set(stats))


def _log_event(ctx: _Context) -> None:
    if ctx.catalog is None:
        return
    errors = [f for f in ctx.findings if f.severity == "error"]
    detail = (
        f"{ctx.checked['objects']} object(s), {ctx.checked['content_files']} content file(s), "
        f"{ctx.checked['bytes']} bytes: {len(errors)} error finding(s)"
    )
    with contextlib.suppress(ArchiveError), ctx.home.catalog.session() as s:
        s.add(new_event("fixity check", detail, outcome="success" if not errors else "failure"))
