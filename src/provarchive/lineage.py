"""Lineage of a passage: seeds file -> stored version -> cleaning run -> passage.

Contract: :func:`lineage` gathers the chain for one passage id from the catalog
and the store (no writes); :func:`to_json` renders it as plain JSON and
:func:`to_prov` as a W3C PROV document (built with the ``prov`` package, so
``prov.model.ProvDocument.deserialize`` reads our PROV-JSON back unchanged).

PROV mapping: the seeds file, the stored version (an OCFL object version) and
the derivation's clean text are ``prov:Entity``; the ingestion and the cleaning
run are ``prov:Activity``; provarchive (a ``prov:SoftwareAgent``) and the OCFL
version's user (a ``prov:Person``) are agents. The passage was derived from the
clean text and, through its byte span, from the stored version. A line the
cleaner dropped (``NAME@vN#rK``) has the same chain, with its rule and reason
(``pa:rule``, ``pa:reason``) and the sha256 of its text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from .catalog import queries
from .catalog.models import RemovalRecord
from .cleaning.passages import parse_passage_id
from .config import AGENT
from .digests import sha256_hex
from .errors import NotFoundError, PassageNotFoundError
from .home import Home
from .search.engine import REMOVED, parse_removed_id
from .timestamps import iso_or_none
from .timestamps import parse as parse_stamp

NAMESPACE = "urn:x-provarchive:"
OCFL_NAMESPACE = "https://ocfl.io/1.1/spec/#"


@dataclass(frozen=True)
class SeedLink:
    document: str
    source: str


@dataclass(frozen=True)
class VersionLink:
    object_id: str
    version: int
    sha256: str
    sha512: str
    size: int
    ingested_at: str
    message: str
    user: str
    user_address: str | None
    content_path: str
    """Path of the content file relative to the OCFL storage root."""


@dataclass(frozen=True)
class DerivationLink:
    number: int
    cleaner: str
    cleaner_version: str
    rules_digest: str
    normalisation: str
    encoding: str | None
    created_at: str
    output_sha256: str
    current: bool
    superseded_at: str | None


@dataclass(frozen=True)
class PassageLink:
    passage_id: str
    ordinal: int
    kind: str
    """A passage kind, or ``removed`` for a line the cleaner dropped."""
    text: str
    sha256: str
    raw_span: tuple[int, int]
    rule: str | None = None
    """For a removed line: the rule that dropped it, and why."""
    reason: str | None = None


@dataclass(frozen=True)
class Lineage:
    seed: SeedLink
    version: VersionLink
    derivation: DerivationLink
    passage: PassageLink


def _no_such_derivation(s: Any, pid: str, name: str, number: int, derivation: int) -> None:
    """--derivation N names no derivation of the passage's version: say which exist."""
    numbers = queries.derivation_numbers(s, name, number)
    if derivation in numbers:
        return  # the derivation exists, the passage does not: PassageNotFoundError
    known = ", ".join(str(n) for n in numbers) or "none"
    raise NotFoundError(
        f"{name} v{number} has no derivation {derivation} (its derivations: {known}); "
        f"the passage id {pid!r} is fine"
    )


def lineage(home: Home, pid: str, *, derivation: int | None = None) -> Lineage:
    """The lineage of passage ``pid`` in the current derivation (or derivation N); ``pid``
    may also be a removed line's id (``NAME@vN#rK``, as ``search --everything`` cites)."""
    removed = parse_removed_id(pid)
    parsed = removed or parse_passage_id(pid)
    if parsed is None:
        raise PassageNotFoundError(pid)
    name, number, ordinal = parsed
    with home.catalog.session() as s:
        chain = queries.removal_chain if removed else queries.passage_chain
        row = chain(s, name, number, ordinal, derivation)
        if row is None and derivation is not None:
            _no_such_derivation(s, pid, name, number, derivation)
        if row is None:
            raise PassageNotFoundError(pid)
        p, d, v, doc = row
        if isinstance(p, RemovalRecord):
            link = PassageLink(
                pid, p.ordinal, REMOVED, p.text, sha256_hex(p.text), (p.raw_start, p.raw_end),
                p.rule, p.reason,
            )  # fmt: skip
        else:
            link = PassageLink(
                p.passage_id, p.ordinal, p.kind, p.text, p.sha256, (p.raw_start, p.raw_end)
            )
        return Lineage(
            seed=SeedLink(doc.name, v.source),
            version=VersionLink(
                object_id=doc.object_id,
                version=v.number,
                sha256=v.sha256,
                sha512=v.sha512,
                size=v.size,
                ingested_at=iso_or_none(v.ingested_at) or "",
                message=v.message,
                user=v.user_name,
                user_address=v.user_address,
                content_path=f"{doc.object_path}/{v.content_path}",
            ),
            derivation=DerivationLink(
                number=d.number,
                cleaner=d.cleaner_name,
                cleaner_version=d.cleaner_version,
                rules_digest=d.rules_digest,
                normalisation=d.normalisation,
                encoding=d.encoding,
                created_at=iso_or_none(d.created_at) or "",
                output_sha256=d.output_sha256,
                current=d.current,
                superseded_at=iso_or_none(d.superseded_at),
            ),
            passage=link,
        )


def to_json(lin: Lineage) -> dict[str, Any]:
    data = asdict(lin)
    data["passage"]["raw_span"] = list(lin.passage.raw_span)
    return data


def _q(value: str) -> str:
    return quote(value, safe="")


def to_prov(lin: Lineage) -> Any:
    """The lineage as a ``prov.model.ProvDocument``: seed -> stored version -> clean text
    -> passage, the two activities between them and the agents behind each."""
    import prov.model as pm

    doc = pm.ProvDocument()
    doc.add_namespace("pa", NAMESPACE)
    doc.add_namespace("ocfl", OCFL_NAMESPACE)
    seed, stored, clean_text, passage = _prov_entities(doc, lin)
    ingest, cleaning = _prov_activities(doc, lin)
    person, software, cleaner = _prov_agents(doc, lin)
    ingested, cleaned = parse_stamp(lin.version.ingested_at), parse_stamp(lin.derivation.created_at)
    doc.used(ingest, seed)
    doc.wasGeneratedBy(stored, ingest, ingested)
    doc.wasDerivedFrom(stored, seed, ingest)
    doc.wasAssociatedWith(ingest, person)
    doc.wasAssociatedWith(ingest, software)
    doc.used(cleaning, stored)
    doc.wasGeneratedBy(clean_text, cleaning, cleaned)
    doc.wasDerivedFrom(clean_text, stored, cleaning)
    doc.wasAssociatedWith(cleaning, cleaner)
    doc.wasDerivedFrom(passage, clean_text)
    span = lin.passage.raw_span
    doc.wasDerivedFrom(
        passage, stored, other_attributes={"pa:rawStart": span[0], "pa:rawEnd": span[1]}
    )
    return doc


def _prov_entities(doc: Any, lin: Lineage) -> tuple[Any, Any, Any, Any]:
    v, d, p = lin.version, lin.derivation, lin.passage
    name = _q(lin.seed.document)
    seed = doc.entity(
        f"pa:seed/{name}",
        {"prov:label": f"seeds file {lin.seed.document}", "pa:source": lin.seed.source},
    )
    stored = doc.entity(
        f"pa:version/{name}/v{v.version}",
        {
            "prov:type": "ocfl:object-version",
            "prov:label": f"{lin.seed.document} v{v.version}",
            "pa:objectId": v.object_id,
            "pa:version": v.version,
            "pa:sha256": v.sha256,
            "pa:sha512": v.sha512,
            "pa:size": v.size,
            "pa:contentPath": v.content_path,
        },
    )
    clean_text = doc.entity(
        f"pa:derivation/{name}/v{v.version}/d{d.number}",
        {
            "prov:label": f"clean text of {lin.seed.document} v{v.version} (derivation {d.number})",
            "pa:outputSha256": d.output_sha256,
            "pa:normalisation": d.normalisation,
            "pa:encoding": d.encoding or "none",
            "pa:current": d.current,
        },
    )
    passage = doc.entity(
        f"pa:passage/{_q(p.passage_id)}",
        {
            "prov:label": p.passage_id,
            "prov:value": p.text,
            "pa:kind": p.kind,
            "pa:sha256": p.sha256,
            "pa:rawStart": p.raw_span[0],
            "pa:rawEnd": p.raw_span[1],
            **({} if p.rule is None else {"pa:rule": p.rule, "pa:reason": p.reason or ""}),
        },
    )
    return seed, stored, clean_text, passage


def _prov_activities(doc: Any, lin: Lineage) -> tuple[Any, Any]:
    v, d = lin.version, lin.derivation
    name = _q(lin.seed.document)
    ingested, cleaned = parse_stamp(v.ingested_at), parse_stamp(d.created_at)
    ingest = doc.activity(
        f"pa:ingest/{name}/v{v.version}", ingested, ingested, {"prov:label": v.message}
    )
    cleaning = doc.activity(
        f"pa:clean/{name}/v{v.version}/d{d.number}",
        cleaned,
        cleaned,
        {"prov:label": f"{d.cleaner} {d.cleaner_version}", "pa:rulesDigest": d.rules_digest},
    )
    return ingest, cleaning


def _prov_agents(doc: Any, lin: Lineage) -> tuple[Any, Any, Any]:
    v, d = lin.version, lin.derivation
    software = doc.agent(
        f"pa:agent/{_q(AGENT)}",
        {"prov:type": "prov:SoftwareAgent", "prov:label": AGENT},
    )
    cleaner = doc.agent(
        f"pa:cleaner/{_q(d.cleaner)}/{_q(d.cleaner_version)}",
        {"prov:type": "prov:SoftwareAgent", "prov:label": f"{d.cleaner} {d.cleaner_version}"},
    )
    person_attrs: dict[str, Any] = {"prov:type": "prov:Person", "prov:label": v.user}
    if v.user_address:
        person_attrs["pa:address"] = v.user_address
    person = doc.agent(f"pa:user/{_q(v.user)}", person_attrs)
    return person, software, cleaner


def to_text(lin: Lineage) -> str:
    v, d, p = lin.version, lin.derivation, lin.passage
    state = "current" if d.current else f"superseded {d.superseded_at}"
    return "\n".join(
        [
            f"seeds file   {lin.seed.source}",
            f"  -> stored  {lin.seed.document} v{v.version}, ingested {v.ingested_at} by {v.user}",
            f"             object {v.object_id}",
            f"             ocfl/{v.content_path}",
            f"             sha256 {v.sha256}",
            f"             sha512 {v.sha512}",
            f"  -> cleaned derivation {d.number} ({state}) by {d.cleaner} {d.cleaner_version}",
            f"             rules {d.rules_digest}",
            f"             decoded as {d.encoding or 'none'}; output {d.output_sha256}",
            f"  -> passage {p.passage_id} ({p.kind}), bytes [{p.raw_span[0]}, {p.raw_span[1]})"
            if p.rule is None
            else f"  -> removed {p.passage_id} by rule {p.rule} ({p.reason}), "
            f"bytes [{p.raw_span[0]}, {p.raw_span[1]})",
            f"             sha256 {p.sha256}",
            f"             {p.text}",
        ]
    )
