"""Provable history: the archive's key, its signed checkpoints, proof bundles and their check.

``check-proof`` needs no archive at all: a reader of a published story runs it on the
bundle the journalist published (and, optionally, on the raw file).
"""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from .common import (
    JsonOpt,
    VersionOpt,
    _archive,
    _print_json,
    command,
    err,
    escape,
    out,
    verifier_option,
)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the {what}: {exc.strerror or exc}") from exc


@command("key")
def key_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print the public key that verifies this archive's checkpoints.

    Publish it (or keep it with a checkpoint): with it anyone can check a proof bundle.

    Example: provarchive key > archive.pub
    """
    with _archive(ctx) as archive:
        key = archive.verifier_key()
    if as_json:
        _print_json({"verifier_key": key})
    else:
        out.print(key, markup=False)


@command("checkpoint")
def checkpoint_cmd(
    ctx: typer.Context,
    out_file: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write it to FILE.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the latest signed checkpoint of the archive's transparency log.

    Keep copies outside the archive (mail it, commit it elsewhere, print it): each copy
    is a witness that 'verify --checkpoint' checks today's archive against.

    Example: provarchive checkpoint --out checkpoint-2026-12-02.txt
    """
    with _archive(ctx) as archive:
        note = archive.checkpoint()
    if as_json:
        import base64

        from ..tlog.checkpoint import peek_checkpoint

        body = peek_checkpoint(note)
        root = base64.b64encode(body.root).decode("ascii")
        data = {"origin": body.origin, "size": body.size, "root_hash": root, "note": note}
        if out_file is None:
            _print_json(data)
            return
        note = json.dumps(data, indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(note)
        return
    try:
        out_file.write_text(note)
    except OSError as exc:
        raise InputError(out_file, f"cannot write the checkpoint: {exc.strerror or exc}") from exc
    err.print(f"Checkpoint written to {escape(str(out_file))}.")


@command("prove")
def prove_cmd(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(metavar="NAME|PASSAGE_ID", help="A document, or a passage id.")
    ],
    version: VersionOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write the bundle to FILE.")
    ] = None,
) -> None:
    """A self-contained proof bundle (JSON): that a document version, or a passage and its
    derivation, is in the archive's signed log.

    Example: provarchive prove 2026/story.txt --out story.proof.json
    """
    with _archive(ctx) as archive:
        archive.require()
        if archive.store.load(target) is None and "#" not in target:
            target = archive.resolve_name(target)
        bundle = archive.prove(target, version)
    if out_file is None:
        sys.stdout.buffer.write(bundle)
        return
    try:
        out_file.write_bytes(bundle)
    except OSError as exc:
        raise InputError(out_file, f"cannot write the bundle: {exc.strerror or exc}") from exc
    err.print(f"Proof bundle written to {escape(str(out_file))}.")


@command("check-proof")
def check_proof_cmd(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle made by 'prove'.")],
    key: Annotated[
        str,
        typer.Option(
            "--key", metavar="PUBKEY", help="The archive's verifier key, or a file holding it."
        ),
    ],
    raw_file: Annotated[
        Path | None,
        typer.Option("--file", metavar="RAW", help="Also check this file is the attested one."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a proof bundle with no archive: signature, inclusion in the signed log, and
    (with --file) that the file is exactly the archived one. Exit 1 with the reason if not.

    Example: provarchive check-proof story.proof.json --key archive.pub --file story.txt
    """
    from ..tlog.bundle import check_bundle
    from ..tlog.errors import FileMismatchError, ProofError

    verifier = verifier_option(key)
    raw = _read(raw_file, "file") if raw_file is not None else None
    try:
        result = check_bundle(_read(bundle, "bundle"), verifier, raw)
    except FileMismatchError as exc:  # the file given is the one that did not check
        raise FileMismatchError(
            f"{raw_file} is not the file {bundle} attests: {exc.reason}"
        ) from exc
    except ProofError as exc:  # the same error, naming the bundle it is about
        raise type(exc)(f"{bundle}: {exc.reason}") from exc
    if as_json:
        _print_json({"ok": True, **result.to_json()})
        return
    leaf = result.leaf
    what = f"{leaf.document} v{leaf.version}"
    if leaf.type == "withdrawal":
        what += f" (the withdrawal of the file with sha256 {leaf.sha256})"
    if result.passage_id:
        what = f"passage {result.passage_id}"
    out.print(
        f"OK: {escape(what)} is leaf {result.leaf_index} of {result.tree_size} in the log "
        f"signed by {escape(result.key)} (recorded {leaf.time})."
    )
    out.print(f"sha256 {leaf.sha256}", markup=False)
    if result.file_checked:
        out.print(f"The file {escape(str(raw_file))} is exactly the archived one.")
    if result.span_checked:
        out.print("Its bytes at the passage's span hash to the recorded digest.")
