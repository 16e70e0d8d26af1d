"""Signed notes and keys against Go's golang.org/x/mod/sumdb/note vectors and the C2SP example.

Values copied from github.com/golang/mod sumdb/note/note_test.go (BSD-3-Clause:
TestNewVerifier, TestNewSigner, TestSign, TestOpen) and from c2sp.org/signed-note
(github.com/C2SP/C2SP signed-note.md, "Example").
"""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from provarchive.tlog import keys, note
from provarchive.tlog.errors import (
    BadSignatureError,
    MalformedNoteError,
    SigningKeyError,
    UnknownKeyError,
)

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
    "dngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwn"
    "WLox33WWd1RvMc+QQ=\n"
)
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3"
    "mFXmRKuwHjG1Yu72IneyaQM=\n"
)


@pytest.fixture
def peter() -> note.Verifier:
    return note.Verifier.from_verifier_key(PETER_VKEY)


@pytest.fixture
def enoch() -> note.Verifier:
    return note.Verifier.from_verifier_key(ENOCH_VKEY)


def test_go_verifier_key_parses_and_round_trips(peter: note.Verifier) -> None:
    assert (peter.name, peter.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert peter.verifier_key == PETER_VKEY


def test_go_signer_key_round_trips_and_matches_its_verifier() -> None:
    signer = note.Signer.from_signer_key(PETER_SKEY)
    assert signer.to_signer_key() == PETER_SKEY
    assert signer.verifier.verifier_key == PETER_VKEY


@pytest.mark.parametrize("mangle", ["substring", "increment"])
@pytest.mark.parametrize(
    ("key", "parse"),
    [(PETER_VKEY, note.Verifier.from_verifier_key), (PETER_SKEY, note.Signer.from_signer_key)],
    ids=["verifier", "signer"],
)
def test_mangled_keys_are_rejected_like_go(mangle: str, key: str, parse: object) -> None:
    # TestNewVerifier / TestNewSigner: every proper substring and every byte+1 fails.
    variants = []
    if mangle == "substring":
        variants = [
            key[i:j]
            for i in range(len(key) + 1)
            for j in range(i + 1, len(key) + 1)
            if (i, j) != (0, len(key))
        ]
    else:
        variants = [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    for variant in variants:
        with pytest.raises(SigningKeyError):
            parse(variant)  # type: ignore[operator]


@pytest.mark.parametrize(
    "vkey",
    [
        # wrong length key, with adjusted key hash; unknown algorithm, adjusted hash
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_go_bad_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(SigningKeyError):
        note.Verifier.from_verifier_key(vkey)


def test_sign_reproduces_go_signed_note_byte_for_byte() -> None:
    signer = note.Signer.from_signer_key(PETER_SKEY)
    assert note.sign(TEXT, signer) == TEXT + "\n" + PETER_SIG


def test_c2sp_example_note_verifies() -> None:
    verifier = note.Verifier.from_verifier_key(C2SP_VKEY)
    opened = note.open_note(C2SP_NOTE, [verifier])
    assert opened.text == "This is an example message.\n"
    assert [s.name for s in opened.verified] == ["example.com/foo"]


def test_open_with_one_known_key_keeps_the_other_unverified(peter: note.Verifier) -> None:
    opened = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter])
    assert opened.text == TEXT
    assert [(s.name, s.key_id) for s in opened.verified] == [("PeterNeumann", 0xC74F20A3)]
    assert [(s.name, s.key_id) for s in opened.unverified] == [("EnochRoot", 0xAF0CFE78)]
    with pytest.raises(UnknownKeyError, match="untrusted keys: EnochRoot\\+af0cfe78"):
        note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter], allow_unknown=False)


def test_open_with_both_keys_verifies_both(peter: note.Verifier, enoch: note.Verifier) -> None:
    opened = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
    assert opened.unverified == ()


def test_open_without_a_known_key_names_the_keys(enoch: note.Verifier) -> None:
    with pytest.raises(UnknownKeyError) as info:
        note.open_note(TEXT + "\n" + PETER_SIG, [enoch])
    assert str(info.value) == (
        "the note is not signed by the trusted key (EnochRoot+af0cfe78); "
        "it is signed by PeterNeumann+c74f20a3"
    )


def test_open_rejects_too_many_signatures(peter: note.Verifier) -> None:
    with pytest.raises(MalformedNoteError):
        note.open_note(TEXT + "\n" + PETER_SIG * 101, [peter])
    assert len(note.open_note(TEXT + "\n" + PETER_SIG * 100, [peter]).verified) == 1


def test_open_rejects_an_invalid_signature(peter: note.Verifier) -> None:
    with pytest.raises(
        BadSignatureError, match="invalid signature for key PeterNeumann\\+c74f20a3"
    ):
        note.open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [peter])


def test_open_skips_duplicates_and_keeps_garbled_unknown_ones(peter: note.Verifier) -> None:
    garbled = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    opened = note.open_note(
        TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + garbled, [peter]
    )
    assert len(opened.verified) == 1
    assert [s.signature[:12] for s in opened.unverified] == ["rwz+eBzmZa0S", "rwz+eBzmZa0S"]
    assert len(opened.unverified) == 2


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
        "XgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_go_malformed_notes_are_rejected(message: str, peter: note.Verifier) -> None:
    with pytest.raises(MalformedNoteError):
        note.open_note(message, [peter])


def test_invalid_utf8_note_is_malformed(peter: note.Verifier) -> None:
    with pytest.raises(MalformedNoteError, match="not UTF-8"):
        note.open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [peter])


def test_non_canonical_base64_in_a_signature_is_malformed(peter: note.Verifier) -> None:
    # 'M=' -> 'N=' decodes to the same bytes under a lenient decoder (spare bits).
    sig = PETER_SIG.replace("JnAM=", "JnAN=")
    with pytest.raises(MalformedNoteError):
        note.open_note(TEXT + "\n" + sig, [peter])


def test_sign_and_open_round_trip_with_a_generated_key() -> None:
    signer = note.Signer.generate("archive.example/log")
    signed = note.sign("hello\nworld\n", signer)
    assert note.open_note(signed, [signer.verifier]).text == "hello\nworld\n"
    other = note.Signer.generate("archive.example/log")
    with pytest.raises(UnknownKeyError):
        note.open_note(signed, [other.verifier])


@pytest.mark.parametrize("text", ["no newline", "tab\there\n"])
def test_sign_refuses_text_a_note_cannot_hold(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        note.sign(text, note.Signer.generate("k"))


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\u00a0b", "a\u3000b"])
def test_key_names_with_space_or_plus_are_refused(name: str) -> None:
    assert not note.valid_key_name(name)
    with pytest.raises(SigningKeyError):
        note.Signer.generate(name)


def test_two_different_keys_under_one_name_and_id_are_refused() -> None:
    a = note.Verifier.from_verifier_key(PETER_VKEY)
    forged = note.Verifier(a.name, a.key_id, bytes(32))
    with pytest.raises(SigningKeyError, match="two different keys"):
        note.open_note(TEXT + "\n" + PETER_SIG, [a, forged])


# -- key files and the environment ----------------------------------------------------


def test_signer_never_shows_its_private_key() -> None:
    signer = note.Signer.from_signer_key(PETER_SKEY)
    secret = PETER_SKEY.rsplit("+", 1)[1]
    assert secret not in repr(signer) and secret not in str(signer)
    assert repr(signer) == "Signer(name='PeterNeumann', key_id=c74f20a3)"
    with pytest.raises(TypeError):
        pickle.dumps(signer)


def test_generate_key_writes_mode_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        signer = keys.generate_key(tmp_path / "log.key", "archive.example/log")
    finally:
        os.umask(old)
    path = tmp_path / "log.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == signer.to_signer_key() + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["log.key"]
    assert keys.load_key(path).verifier == signer.verifier


def test_generate_key_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    first = keys.generate_key(path, "a")
    with pytest.raises(SigningKeyError, match="already exists"):
        keys.generate_key(path, "a")
    assert keys.load_key(path).verifier == first.verifier
    assert [p.name for p in tmp_path.iterdir()] == ["log.key"]


def test_load_key_refuses_a_readable_key_file_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    path.write_text(PETER_SKEY + "\n")
    path.chmod(0o644)
    with pytest.raises(SigningKeyError) as info:
        keys.load_key(path)
    assert "permissions 0644 are too open" in str(info.value)
    assert "AYEKFALV" not in str(info.value)


def test_malformed_key_errors_never_echo_the_key(tmp_path: Path) -> None:
    broken = PETER_SKEY[:-4] + "!!!!"
    with pytest.raises(SigningKeyError) as info:
        keys.signer_from_env({keys.ENV_VAR: broken})
    assert str(info.value) == "signing key in $PROVARCHIVE_SIGNING_KEY: the key is not valid base64"


def test_signer_from_env_and_load_signer_order(tmp_path: Path) -> None:
    assert keys.signer_from_env({}) is None
    env = {keys.ENV_VAR: PETER_SKEY}
    assert keys.load_signer(None, env).name == "PeterNeumann"
    path = tmp_path / "k"
    own = keys.generate_key(path, "mine")
    assert keys.load_signer(path, env).verifier == own.verifier
    with pytest.raises(SigningKeyError, match="pass --key FILE or set PROVARCHIVE_SIGNING_KEY"):
        keys.load_signer(None, {})


def test_verifier_key_file_and_inline_string(tmp_path: Path) -> None:
    path = tmp_path / "log.pub"
    keys.write_verifier_key(path, note.Verifier.from_verifier_key(PETER_VKEY))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert keys.read_verifier_key(path).verifier_key == PETER_VKEY
    assert keys.read_verifier_key(str(path)).verifier_key == PETER_VKEY
    assert keys.read_verifier_key(PETER_VKEY).verifier_key == PETER_VKEY
