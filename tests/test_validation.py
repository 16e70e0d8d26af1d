"""The OCFL validator: the official fixtures, objects our Store writes, and each check on damage.

The fixtures (github.com/OCFL/fixtures, 1.1) are read from /work/shared/ocfl-fixtures or
from $PROVARCHIVE_OCFL_FIXTURES, never copied into the project. Their absence is a test
failure, not a skip. Every fixture folder is listed in the tables below, so a fixture
added upstream fails ``test_every_fixture_folder_is_in_the_tables`` until it is handled.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provarchive.store.ocfl import inventory_bytes, sidecar_bytes
from provarchive.store.storage import Store
from provarchive.store.validation import Issue, ObjectReport, validate_object, validate_root
from provarchive.store.validation_codes import CODES

from .conftest import OCFL_FIXTURES, ocfl_py_validate

FIXTURES = OCFL_FIXTURES

BAD = [
    "E001_extra_dir_in_root",
    "E001_extra_file_in_root",
    "E001_invalid_version_format",
    "E001_v2_file_in_root",
    "E003_E063_empty",
    "E003_no_decl",
    "E007_bad_declaration_contents",
    "E008_E036_no_versions_no_head",
    "E010_missing_versions",
    "E010_skipped_versions",
    "E011_E013_invalid_padded_head_version",
    "E015_content_not_in_content_dir",
    "E017_invalid_content_dir",
    "E019_inconsistent_content_dir",
    "E023_extra_file",
    "E023_old_manifest_missing_entries",
    "E025_wrong_digest_algorithm",
    "E036_no_head",
    "E036_no_id",
    "E037_inconsistent_id",
    "E040_head_not_most_recent",
    "E040_wrong_head_doesnt_exist",
    "E040_wrong_head_format",
    "E040_wrong_version_in_version_dir",
    "E041_no_manifest",
    "E046_root_not_most_recent",
    "E049_E050_E054_bad_version_block_values",
    "E049_created_no_timezone",
    "E049_created_not_to_seconds",
    "E050_manifest_digest_wrong_case",
    "E050_state_digest_not_in_manifest",
    "E053_E052_invalid_logical_paths",
    "E058_no_sidecar",
    "E060_E064_root_inventory_digest_mismatch",
    "E060_version_inventory_digest_mismatch",
    "E061_invalid_sidecar",
    "E063_no_inv",
    "E064_different_root_and_latest_inventories",
    "E066_E092_old_manifest_digest_incorrect",
    "E066_algorithm_change_state_mismatch",
    "E066_inconsistent_version_state",
    "E067_file_in_extensions_dir",
    "E092_E093_content_path_does_not_exist",
    "E092_algorithm_change_incorrect_digest",
    "E092_content_file_digest_mismatch",
    "E093_fixity_digest_mismatch",
    "E095_conflicting_logical_paths",
    "E095_non_unique_logical_paths",
    "E096_manifest_duplicate_digests",
    "E097_fixity_duplicate_digests",
    "E100_E099_fixity_invalid_content_paths",
    "E100_E099_manifest_invalid_content_paths",
    "E101_non_unique_content_paths",
    "E103_older_spec_v2",
    "E107_file_in_manifest_not_used",
]
NAMED_CODE_NOT_PRODUCED: dict[str, str] = {}
"""Bad fixtures rejected without the code their name gives, with the reason (none today)."""

WARN = [
    "W001_W004_W005_zero_padded_versions",
    "W001_zero_padded_versions",
    "W002_extra_dir_in_version_dir",
    "W004_uses_sha256",
    "W004_versions_diff_digests",
    "W005_id_not_uri",
    "W007_no_message_or_user",
    "W007_spec-ex-diff-paths",
    "W008_user_no_address",
    "W009_user_address_not_uri",
    "W010_no_version_inventory",
    "W011_version_inv_diff_metadata",
    "W013_unregistered_extension",
]
GOOD = [
    "diff_files_same_md5",
    "minimal_content_dir_called_stuff",
    "minimal_logs_directory_one_log_file",
    "minimal_mixed_digests",
    "minimal_no_content",
    "minimal_one_version_one_file",
    "minimal_uppercase_digests",
    "ocfl_object_all_fixity_digests",
    "spec-ex-full",
    "spec-ex-minimal",
    "updates_all_actions",
    "updates_three_versions_one_file",
]
USER = {"name": "tester", "address": "mailto:tester@example.org"}


def fixture(kind: str, name: str) -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(
            f"the OCFL fixtures are missing: {FIXTURES} does not exist "
            "(set PROVARCHIVE_OCFL_FIXTURES to the folder holding 1.1/)"
        )
    return FIXTURES / kind / name


def describe(report: ObjectReport) -> str:
    return "\n".join(f"{i.code} {i.path}: {i.message}" for i in report.issues)


# -- the official fixtures -------------------------------------------------------------------


def test_every_fixture_folder_is_in_the_tables() -> None:
    for kind, table in (("bad-objects", BAD), ("warn-objects", WARN), ("good-objects", GOOD)):
        folder = fixture(kind, "")
        assert sorted(p.name for p in folder.iterdir()) == sorted(table), kind
    assert set(NAMED_CODE_NOT_PRODUCED) <= set(BAD)


@pytest.mark.parametrize("name", BAD)
def test_bad_fixture_is_rejected_with_its_named_codes(name: str) -> None:
    report = validate_object(fixture("bad-objects", name))
    assert not report.is_valid(), describe(report)
    named = set(re.findall(r"E\d{3}", name))
    if name in NAMED_CODE_NOT_PRODUCED:
        assert not named & report.codes(), "now produced: remove it from NAMED_CODE_NOT_PRODUCED"
    else:
        assert named <= report.codes(), describe(report)


@pytest.mark.parametrize("name", WARN)
def test_warn_fixture_is_valid_with_exactly_its_warnings(name: str) -> None:
    report = validate_object(fixture("warn-objects", name))
    assert report.is_valid(), describe(report)
    assert report.codes() == set(re.findall(r"W\d{3}", name)), describe(report)


@pytest.mark.parametrize("name", GOOD)
def test_good_fixture_has_no_issue_at_all(name: str) -> None:
    report = validate_object(fixture("good-objects", name))
    assert report.issues == (), describe(report)
    assert report.inventory is not None and report.object_id == report.inventory["id"]


def test_good_fixture_digests_are_every_recorded_algorithm_from_one_read() -> None:
    path = fixture("good-objects", "ocfl_object_all_fixity_digests")
    report = validate_object(path)
    data = (path / "v1/content/file.txt").read_bytes()
    digests = report.digests["v1/content/file.txt"]
    assert digests["md5"] == hashlib.md5(data).hexdigest()
    assert digests["sha1"] == hashlib.sha1(data).hexdigest()
    assert digests["blake2b-512"] == hashlib.blake2b(data).hexdigest()
    assert set(digests) == {"md5", "sha1", "sha256", "sha512", "blake2b-512", "size"}
    assert digests["size"] == str(len(data))
    assert report.files_hashed == 1 and report.bytes_read == len(data)


def test_every_code_a_check_can_produce_is_in_the_table() -> None:
    package = Path(__file__).parents[1] / "src/provarchive/store/validation"
    source = "".join(p.read_text() for p in sorted(package.glob("*.py")))
    used = set(re.findall(r'"([EW]\d{3})"', source))
    assert used <= set(CODES)
    assert len(used) >= 100


# -- objects written by our Store ----------------------------------------------------------


def make_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "ocfl", tmp_path / "staging")
    store.initialize()
    return store


def write(store: Store, name: str, data: bytes) -> None:
    with store.transaction() as txn:
        staged = txn.stage(io.BytesIO(data))
        txn.prepare(
            name,
            staged,
            current=store.load(name),
            created="2026-01-01T00:00:00Z",
            message="ingest",
            user=USER,
        )
        txn.commit()
        txn.close()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return make_store(tmp_path)


@pytest.fixture
def obj(store: Store) -> Path:
    """An object of two versions of ``a/doc.txt``, as our Store writes it."""
    write(store, "a/doc.txt", b"first version\n")
    write(store, "a/doc.txt", b"second version\n")
    return store.object_dir("a/doc.txt")


def test_store_object_is_valid_without_any_issue(obj: Path) -> None:
    report = validate_object(obj, expected_id="provarchive:a/doc.txt")
    assert report.issues == (), describe(report)
    assert report.head == "v2" and report.spec_version == "1.1"
    for path, data in (
        ("v1/content/a/doc.txt", b"first version\n"),
        ("v2/content/a/doc.txt", b"second version\n"),
    ):
        assert report.digests[path] == {
            "sha512": hashlib.sha512(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": str(len(data)),
        }
    assert report.files_hashed == 2


def test_store_root_is_valid_for_us_and_for_ocfl_py(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    for i in range(5):
        write(store, f"doc-{i}.txt", f"text {i}".encode())
    write(store, "doc-0.txt", b"changed")
    report = validate_root(store.root)
    assert report.all_issues() == []
    assert report.layout == "0004-hashed-n-tuple-storage-layout" and len(report.objects) == 5
    assert ocfl_py_validate(store.root)[0]


def test_check_digests_false_reads_no_content(obj: Path) -> None:
    (obj / "v1/content/a/doc.txt").write_bytes(b"tampered\n")
    report = validate_object(obj, check_digests=False)
    assert report.issues == () and report.files_hashed == 0 and report.digests == {}


def test_expected_id_mismatch_is_E083(obj: Path) -> None:
    report = validate_object(obj, expected_id="provarchive:other.txt")
    assert issue(report, "E083").expected == "provarchive:other.txt"
    assert issue(report, "E083").found == "provarchive:a/doc.txt"


# -- damage, one check at a time -------------------------------------------------------------


def issue(report: ObjectReport, code: str, path: str | None = None) -> Issue:
    found = [i for i in report.issues if i.code == code and (path is None or i.path == path)]
    assert found, f"no {code} at {path or 'any path'} in:\n{describe(report)}"
    return found[0]


def only_errors(report: ObjectReport) -> set[str]:
    return {i.code for i in report.errors()}


def rewrite(obj: Path, mutate: Callable[[dict[str, Any]], None], *which: str) -> None:
    """Change inventories (default: the root one and its v2 copy), keeping sidecars right."""
    for rel in which or ("inventory.json", "v2/inventory.json"):
        inventory = json.loads((obj / rel).read_bytes())
        mutate(inventory)
        data = inventory_bytes(inventory)
        (obj / rel).write_bytes(data)
        (obj / (rel + ".sha512")).write_bytes(sidecar_bytes(data))


def sha512_of(obj: Path, rel: str) -> str:
    return hashlib.sha512((obj / rel).read_bytes()).hexdigest()


def state(inv: dict[str, Any], version: str = "v2") -> dict[str, list[str]]:
    result: dict[str, list[str]] = inv["versions"][version]["state"]
    return result


def set_logical_path(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(inv: dict[str, Any]) -> None:
        ((digest, _),) = state(inv).items()
        state(inv)[digest] = [path]

    return mutate


@pytest.mark.parametrize(
    ("created", "problem"),
    [
        ("2026-01-01T00:00:00", "has no time zone"),
        ("2026-01-01T00:00Z", "is not to the second"),
        ("2026-01-01", "is not an RFC 3339 date-time"),
        ("2026-02-30T00:00:00Z", "is not a valid date and time"),
    ],
)
def test_created_must_be_rfc3339_to_the_second_with_zone(
    obj: Path, created: str, problem: str
) -> None:
    rewrite(obj, lambda inv: inv["versions"]["v2"].__setitem__("created", created))
    report = validate_object(obj)
    e = issue(report, "E049", "inventory.json")
    assert e.found == created and problem in e.message
    assert only_errors(report) == {"E049"}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/a/doc.txt", "E053"),
        ("a/doc.txt/", "E053"),
        ("a/../doc.txt", "E052"),
        ("a//doc.txt", "E052"),
        ("./doc.txt", "E052"),
    ],
)
def test_bad_logical_paths(obj: Path, path: str, code: str) -> None:
    rewrite(obj, set_logical_path(path))
    report = validate_object(obj)
    assert issue(report, code, "inventory.json").found == path
    assert only_errors(report) == {code}


def test_conflicting_and_repeated_logical_paths_are_E095(obj: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        v1_digest = next(iter(state(inv, "v1")))
        state(inv)[v1_digest] = ["a/doc.txt/inner", "b.txt", "b.txt"]

    rewrite(obj, mutate)
    report = validate_object(obj)
    found = {i.found for i in report.issues if i.code == "E095"}
    assert found == {"a/doc.txt", "b.txt"}


def test_manifest_digest_twice_regardless_of_case_is_E096(obj: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        digest = next(iter(inv["manifest"]))
        inv["manifest"][digest.upper()] = ["v2/content/a/other.txt"]

    rewrite(obj, mutate)
    e = issue(validate_object(obj), "E096")
    assert e.found is not None and e.expected is not None
    assert e.found != e.expected and e.found.lower() == e.expected.lower()


def test_fixity_digest_twice_regardless_of_case_is_E097(obj: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        digest, paths = next(iter(inv["fixity"]["sha256"].items()))
        inv["fixity"]["sha256"][digest.upper()] = list(paths)

    rewrite(obj, mutate)
    report = validate_object(obj)
    assert issue(report, "E097").expected is not None
    assert only_errors(report) == {"E097"}


def test_manifest_entry_no_version_uses_is_E107(obj: Path) -> None:
    extra = hashlib.sha512(b"orphan").hexdigest()
    (obj / "v2/content/orphan.txt").write_bytes(b"orphan")
    rewrite(obj, lambda inv: inv["manifest"].__setitem__(extra, ["v2/content/orphan.txt"]))
    report = validate_object(obj)
    assert issue(report, "E107").found == extra
    assert only_errors(report) == {"E107"}


def test_content_directory_with_a_slash_is_E017(obj: Path) -> None:
    rewrite(obj, lambda inv: inv.__setitem__("contentDirectory", "content/x"), "inventory.json")
    report = validate_object(obj)
    assert issue(report, "E017").found == "content/x"


def test_version_directory_holding_a_later_inventory_is_E040(obj: Path) -> None:
    for name in ("inventory.json", "inventory.json.sha512"):
        (obj / "v1" / name).write_bytes((obj / name).read_bytes())
    report = validate_object(obj)
    e = issue(report, "E040", "v1/inventory.json")
    assert (e.expected, e.found) == ("v1", "v2")


def test_older_inventory_listing_fewer_files_is_E023(obj: Path) -> None:
    rewrite(obj, lambda inv: inv["manifest"].clear(), "v1/inventory.json")
    report = validate_object(obj)
    assert issue(report, "E023", "v1/inventory.json").found == "v1/content/a/doc.txt"


def test_older_inventory_with_a_wrong_digest_is_E066_and_E092(obj: Path) -> None:
    wrong = hashlib.sha512(b"not the content").hexdigest()

    def mutate(inv: dict[str, Any]) -> None:
        (paths,) = inv["manifest"].values()
        inv["manifest"] = {wrong: paths}
        inv["versions"]["v1"]["state"] = {wrong: ["a/doc.txt"]}

    rewrite(obj, mutate, "v1/inventory.json")
    report = validate_object(obj)
    assert issue(report, "E066", "v1/inventory.json").found == wrong
    e = issue(report, "E092", "v1/inventory.json")  # the root manifest agrees with the file
    assert "v1/content/a/doc.txt" in e.message
    assert (e.expected, e.found) == (wrong, sha512_of(obj, "v1/content/a/doc.txt"))
    assert not [i for i in report.issues if i.path == "v1/content/a/doc.txt"]


@pytest.mark.parametrize(
    "value",
    ["https://ocfl.io/1.0/spec/#inventory", "Object", "https://ocfl.io/9.9/spec/#inventory", 3],
)
def test_inventory_type_must_be_the_declared_ocfl_uri(obj: Path, value: Any) -> None:
    rewrite(obj, lambda inv: inv.__setitem__("type", value))
    report = validate_object(obj)
    e = issue(report, "E038", "inventory.json")
    assert e.expected == "https://ocfl.io/1.1/spec/#inventory"


def test_version_inventory_with_another_id_is_E037_and_E110(obj: Path) -> None:
    rewrite(obj, lambda inv: inv.__setitem__("id", "urn:other"), "v1/inventory.json")
    report = validate_object(obj)
    for code in ("E037", "E110"):
        e = issue(report, code, "v1/inventory.json")
        assert (e.expected, e.found) == ("provarchive:a/doc.txt", "urn:other")


def test_content_changed_is_E092_and_E093_with_full_digests(obj: Path) -> None:
    target = obj / "v2/content/a/doc.txt"
    target.write_bytes(b"tampered\n")
    report = validate_object(obj)
    e = issue(report, "E092", "v2/content/a/doc.txt")
    assert e.expected == hashlib.sha512(b"second version\n").hexdigest()
    assert e.found == hashlib.sha512(b"tampered\n").hexdigest()
    f = issue(report, "E093", "v2/content/a/doc.txt")
    assert (f.expected, f.found) == (
        hashlib.sha256(b"second version\n").hexdigest(),
        hashlib.sha256(b"tampered\n").hexdigest(),
    )
    assert only_errors(report) == {"E092", "E093"}


def test_a_file_of_several_blocks_is_hashed_whole_by_both_algorithms(tmp_path: Path) -> None:
    """Blocks of a large file are hashed by two threads at once (sha512 here, sha256 in a
    helper): every block must reach both, in order, also in a forked worker whose parent
    has a helper thread already, and a byte changed in the last block must be found."""
    store = make_store(tmp_path)
    rng = random.Random(7)
    sizes = {"big-0.bin": 3 * 1024 * 1024 + 17, "big-1.bin": 2 * 1024 * 1024}
    data = {name: rng.randbytes(size) for name, size in sizes.items()}
    for name, blob in data.items():
        write(store, name, blob)
    parent = validate_root(store.root)  # starts this process's helper before the pool forks
    pooled = validate_root(store.root, jobs=2)
    for report in (parent, pooled):
        assert report.all_issues() == []
        digests = {d["size"]: d for o in report.objects for d in o.digests.values()}
        for blob in data.values():
            assert digests[str(len(blob))]["sha512"] == hashlib.sha512(blob).hexdigest()
            assert digests[str(len(blob))]["sha256"] == hashlib.sha256(blob).hexdigest()
    target = store.object_dir("big-0.bin") / "v1/content/big-0.bin"
    changed = bytearray(data["big-0.bin"])
    changed[-1] ^= 1
    target.write_bytes(bytes(changed))
    report = validate_object(store.object_dir("big-0.bin"))
    assert only_errors(report) == {"E092", "E093"}
    assert issue(report, "E093", "v1/content/big-0.bin").found == (
        hashlib.sha256(bytes(changed)).hexdigest()
    )


def test_content_missing_and_extra(obj: Path) -> None:
    (obj / "v1/content/a/doc.txt").unlink()
    (obj / "v2/content/a/extra.txt").write_bytes(b"extra")
    report = validate_object(obj)
    assert "does not exist" in issue(report, "E092", "v1/content/a/doc.txt").message
    assert issue(report, "E023", "v2/content/a/extra.txt").found == "v2/content/a/extra.txt"
    assert issue(report, "E024", "v1/content/a")


def test_sidecar_damage(obj: Path) -> None:
    recorded = "0" * 128
    (obj / "inventory.json.sha512").write_text(f"{recorded}  inventory.json\n")
    (obj / "v1/inventory.json.sha512").write_text("not a sidecar\n")
    (obj / "v2/inventory.json.sha512").unlink()
    report = validate_object(obj)
    e = issue(report, "E060", "inventory.json.sha512")
    assert (e.expected, e.found) == (recorded, sha512_of(obj, "inventory.json"))
    assert issue(report, "E061", "v1/inventory.json.sha512").found == "not a sidecar\\n"
    assert issue(report, "E058", "v2/inventory.json.sha512")


def test_root_inventory_not_the_head_copy_is_E064(obj: Path) -> None:
    rewrite(
        obj, lambda inv: inv["versions"]["v2"].__setitem__("message", "edited"), "inventory.json"
    )
    report = validate_object(obj)
    assert issue(report, "E064", "v2/inventory.json")
    assert issue(report, "W011", "v2/inventory.json").found == "ingest"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"id": ', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"\xef\xbb\xbf{}", "not JSON"),
        (b"[1, 2]", "is not a JSON object"),
        (b'{"id": NaN}', "not JSON"),
    ],
)
def test_unparseable_root_inventory_is_E033_and_the_rest_is_still_checked(
    obj: Path, data: bytes, problem: str
) -> None:
    (obj / "inventory.json").write_bytes(data)
    (obj / "extra").write_bytes(b"x")
    report = validate_object(obj)
    assert problem in issue(report, "E033", "inventory.json").message
    assert issue(report, "E060", "inventory.json.sha512")
    assert issue(report, "E001", "extra")
    assert issue(report, "E064", "v2/inventory.json")


def test_duplicate_keys_are_reported(obj: Path) -> None:
    text = (obj / "inventory.json").read_text()
    text = text.replace('"head": "v2"', '"head": "v2", "head": "v1"', 1)
    (obj / "inventory.json").write_text(text)
    report = validate_object(obj)
    assert issue(report, "E033", "inventory.json").found == "head"


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("manifest", [], "E106"),
        ("versions", [], "E045"),
        ("versions", {}, "E008"),
        ("fixity", [], "E111"),
        ("head", 2, "E040"),
        ("digestAlgorithm", "md5", "E025"),
        ("digestAlgorithm", "sha256", "W004"),
        ("id", "", "E037"),
        ("id", "no uri", "W005"),
        ("extra", 1, "E102"),
    ],
)
def test_wrong_json_types_and_values(obj: Path, key: str, value: Any, code: str) -> None:
    rewrite(obj, lambda inv: inv.__setitem__(key, value))
    report = validate_object(obj)
    issue(report, code, "inventory.json")


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("message", 5, "E094"),
        ("user", "someone", "E054"),
        ("user", {"address": "mailto:a@b.org"}, "E054"),
        ("user", {"name": "a"}, "W008"),
        ("user", {"name": "a", "address": "somewhere"}, "W009"),
        ("state", [], "E050"),
    ],
)
def test_version_block_values(obj: Path, key: str, value: Any, code: str) -> None:
    rewrite(obj, lambda inv: inv["versions"]["v2"].__setitem__(key, value))
    issue(validate_object(obj), code, "inventory.json")


def test_missing_keys(obj: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        for key in ("id", "head", "manifest"):
            del inv[key]
        del inv["versions"]["v1"]["message"]

    rewrite(obj, mutate)
    report = validate_object(obj)
    messages = [i.message for i in report.issues if i.code == "E036" and i.path == "inventory.json"]
    assert sorted(messages) == ["the inventory has no head", "the inventory has no id"]
    assert issue(report, "E041", "inventory.json")
    assert issue(report, "W007", "inventory.json")


def test_state_digest_in_another_case_than_the_manifest_is_E050(obj: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        ((digest, paths),) = state(inv).items()
        inv["versions"]["v2"]["state"] = {digest.upper(): paths}

    rewrite(obj, mutate)
    e = issue(validate_object(obj), "E050", "inventory.json")
    assert e.expected is not None and e.found == e.expected.upper()


def test_declaration_and_root_entries(obj: Path) -> None:
    (obj / "0=ocfl_object_1.1").write_text("ocfl_object_1.1")
    (obj / "stray").mkdir()
    (obj / "v3").mkdir()
    (obj / "extensions").mkdir()
    (obj / "extensions" / "a_file").write_text("x")
    (obj / "extensions" / "local-ext").mkdir()
    report = validate_object(obj)
    assert issue(report, "E007", "0=ocfl_object_1.1").found == "ocfl_object_1.1"
    assert issue(report, "E001", "stray")
    assert issue(report, "E046", "v3")
    assert issue(report, "E067", "extensions/a_file")
    assert issue(report, "W013", "extensions/local-ext")


def test_no_declaration_is_E003(obj: Path) -> None:
    (obj / "0=ocfl_object_1.1").unlink()
    report = validate_object(obj)
    assert only_errors(report) == {"E003"}


def test_version_directory_contents(obj: Path) -> None:
    (obj / "v1/notes.txt").write_text("x")
    (obj / "v1/extra_dir").mkdir()
    (obj / "v1/extra_dir/f").write_text("x")
    report = validate_object(obj)
    assert issue(report, "E015", "v1/notes.txt")
    assert issue(report, "W002", "v1/extra_dir")
    assert only_errors(report) == {"E015"}


def test_missing_version_directory_is_E046_and_E010(store: Store, obj: Path) -> None:
    write(store, "a/doc.txt", b"third\n")
    for p in sorted((obj / "v2").rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    (obj / "v2").rmdir()
    report = validate_object(obj)
    assert issue(report, "E046", "v2")
    assert issue(report, "E010", ".").found == "v2"


def test_misnamed_blocks_and_files(obj: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        inv["Versions"] = inv.pop("versions")
        inv["Fixity"] = inv.pop("fixity")

    rewrite(obj, mutate, "inventory.json")
    (obj / "Inventory.json").write_bytes(b"{}")
    report = validate_object(obj)
    assert issue(report, "E044", "inventory.json").found == "Versions"
    assert issue(report, "E055", "inventory.json").found == "Fixity"
    assert issue(report, "E034", "Inventory.json")
    assert not {"E043", "E102", "E001"} & report.codes()


def test_content_outside_content_without_content_directory_is_E021(obj: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        del inv["contentDirectory"]
        (digest, paths), *_ = inv["manifest"].items()
        inv["manifest"][digest] = [p.replace("/content/", "/data/") for p in paths]

    rewrite(obj, mutate)
    report = validate_object(obj)
    e = issue(report, "E021", "inventory.json")
    assert e.found is not None and "/data/" in e.found


def test_object_written_by_ocfl_py_is_valid(tmp_path: Path) -> None:
    import ocfl

    src = tmp_path / "src"
    for version, files in {
        "v1": {"a.txt": b"a", "d/b.txt": b"b"},
        "v2": {"a.txt": b"a2", "c.txt": b"b"},
    }.items():
        for name, data in files.items():
            (src / version / name).parent.mkdir(parents=True, exist_ok=True)
            (src / version / name).write_bytes(data)
    meta = {
        n: ocfl.VersionMetadata(
            created=f"2026-01-0{n}T00:00:00Z",
            message=f"v{n}",
            name="x",
            address="mailto:x@example.org",
        )
        for n in (1, 2)
    }
    ocfl.Object(identifier="urn:ocfl-py:1", fixity=["md5", "sha1"]).build(
        srcdir=str(src), versions_metadata=meta, objdir=str(tmp_path / "obj")
    )
    report = validate_object(tmp_path / "obj")
    assert report.issues == (), describe(report)
    # ocfl-py 2.1.0 writes its fixity blocks empty: only the manifest digest is there to check.
    assert report.digests["v1/content/d/b.txt"] == {
        "sha512": hashlib.sha512(b"b").hexdigest(),
        "size": "1",
    }
    assert report.files_hashed == 3  # v2/c.txt has the bytes of v1/d/b.txt: stored once
