"""finsig_runner.core.signing: keys, fingerprints, canonical DSSE envelopes. No subprocess, no
Docker."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from finsig_runner.core import signing
from finsig_runner.core.errors import ExitCode

PAYLOAD = b'{"hello": "auditor"}\n'
TYPE = "application/vnd.in-toto+json"


@pytest.fixture()
def key() -> Ed25519PrivateKey:
    return signing.generate_key()


@pytest.fixture()
def envelope(key: Ed25519PrivateKey) -> bytes:
    return signing.sign_envelope(PAYLOAD, TYPE, key)


def _edit(data: bytes, **changes: object) -> bytes:
    """Change top-level fields of an envelope and re-serialise it canonically."""
    obj = json.loads(data)
    obj.update(changes)
    return (json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n").encode()


# --- round trip and the wire form ----------------------------------------------------------------


def test_round_trip(key: Ed25519PrivateKey, envelope: bytes) -> None:
    assert signing.verify_envelope(envelope, key.public_key(), TYPE) == PAYLOAD


def test_envelope_is_dsse_shaped_and_canonical(key: Ed25519PrivateKey, envelope: bytes) -> None:
    obj = json.loads(envelope)
    assert set(obj) == {"payload", "payloadType", "signatures"}
    assert base64.b64decode(obj["payload"]) == PAYLOAD
    assert obj["payloadType"] == TYPE
    assert [set(s) for s in obj["signatures"]] == [{"keyid", "sig"}]
    assert obj["signatures"][0]["keyid"] == signing.fingerprint(key)
    assert envelope.endswith(b"}\n") and b" " not in envelope
    assert envelope == (json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n").encode()


def test_signature_is_over_pae(key: Ed25519PrivateKey, envelope: bytes) -> None:
    sig = base64.b64decode(json.loads(envelope)["signatures"][0]["sig"])
    expected = b"DSSEv1 %d %s %d %s" % (len(TYPE), TYPE.encode(), len(PAYLOAD), PAYLOAD)
    assert signing.pae(TYPE, PAYLOAD) == expected
    key.public_key().verify(sig, expected)  # raises if not


def test_pae_matches_the_spec_example() -> None:
    # https://github.com/secure-systems-lab/dsse/blob/master/protocol.md (test vector)
    assert signing.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters(key: Ed25519PrivateKey) -> None:
    assert signing.pae("t/é", b"") == "DSSEv1 4 t/é 0 ".encode()
    data = signing.sign_envelope("€".encode(), "t/é", key)
    assert signing.verify_envelope(data, key.public_key(), "t/é") == "€".encode()


def test_empty_payload_round_trips(key: Ed25519PrivateKey) -> None:
    data = signing.sign_envelope(b"", TYPE, key)
    assert signing.verify_envelope(data, key.public_key(), TYPE) == b""


# --- refusals: tamper every field ----------------------------------------------------------------


def _refused(data: bytes, key: Ed25519PrivateKey, match: str, payload_type: str = TYPE) -> None:
    with pytest.raises(signing.SignatureError, match=match) as info:
        signing.verify_envelope(data, key.public_key(), payload_type)
    assert info.value.exit_code == ExitCode.FINDINGS


def test_tampered_payload_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    other = base64.b64encode(PAYLOAD.replace(b"auditor", b"attacker")).decode()
    _refused(_edit(envelope, payload=other), key, "does not verify")


def test_tampered_payload_type_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    _refused(_edit(envelope, payloadType="text/plain"), key, "payloadType")
    # ... and also when the verifier is told to expect the forged type: the PAE covers it
    _refused(_edit(envelope, payloadType="text/plain"), key, "does not verify", "text/plain")


def test_wrong_expected_payload_type_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    _refused(envelope, key, "payloadType", "application/json")


def test_tampered_signature_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    sig = bytearray(base64.b64decode(json.loads(envelope)["signatures"][0]["sig"]))
    sig[7] ^= 1
    sigs = [{"keyid": signing.fingerprint(key), "sig": base64.b64encode(bytes(sig)).decode()}]
    _refused(_edit(envelope, signatures=sigs), key, "does not verify")


def test_tampered_keyid_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    sig = json.loads(envelope)["signatures"][0]["sig"]
    _refused(_edit(envelope, signatures=[{"keyid": "0" * 64, "sig": sig}]), key, "unknown key")
    _refused(_edit(envelope, signatures=[{"keyid": "", "sig": sig}]), key, "unknown key")


def test_extra_unknown_signature_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    other = signing.generate_key()
    mine = json.loads(envelope)["signatures"]
    theirs = json.loads(signing.sign_envelope(PAYLOAD, TYPE, other))["signatures"]
    _refused(_edit(envelope, signatures=mine + theirs), key, "unknown key")


def test_no_signatures_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    _refused(_edit(envelope, signatures=[]), key, "non-empty")


@pytest.mark.parametrize(
    "field, value",
    [
        ("payload", "not base64!"),
        ("payload", "aGVsbG8"),  # missing padding
        ("payload", "aGVsbG9="),  # non-zero trailing bits: decodes, but not canonical
        ("payload", "aGVs\nbG8="),
        ("payload", 42),
    ],
)
def test_bad_payload_base64_refused(
    key: Ed25519PrivateKey, envelope: bytes, field: str, value: object
) -> None:
    _refused(_edit(envelope, **{field: value}), key, "base64")


def test_bad_sig_base64_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    sigs = [{"keyid": signing.fingerprint(key), "sig": "%%%"}]
    _refused(_edit(envelope, signatures=sigs), key, "base64")


def test_url_safe_base64_refused(key: Ed25519PrivateKey) -> None:
    payload = b"\xfb\xff\xfe" * 10  # standard base64 holds + and /
    data = signing.sign_envelope(payload, TYPE, key)
    obj = json.loads(data)
    obj["payload"] = base64.urlsafe_b64encode(payload).decode()
    _refused(_edit(data, payload=obj["payload"]), key, "base64")


def test_unknown_or_missing_fields_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    _refused(_edit(envelope, extra="x"), key, "keys must be exactly")
    obj = json.loads(envelope)
    del obj["payloadType"]
    _refused((json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n").encode(), key, "keys")
    sigs = [dict(obj["signatures"][0], publicKey="whatever")]
    _refused(_edit(envelope, signatures=sigs), key, "keys must be exactly")


# --- refusals: non-canonical forms of a valid envelope -------------------------------------------


def _variants(envelope: bytes) -> list[bytes]:
    obj = json.loads(envelope)
    compact = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    unsorted = json.dumps(dict(reversed(list(obj.items()))), separators=(",", ":"))
    return [
        compact.encode(),  # no trailing newline
        (compact + "\n\n").encode(),
        (compact + "\r\n").encode(),
        (" " + compact + "\n").encode(),
        (json.dumps(obj, sort_keys=True) + "\n").encode(),  # default separators
        (json.dumps(obj, sort_keys=True, indent=2) + "\n").encode(),
        (unsorted + "\n").encode(),
        compact.replace('"payload"', '"payl\\u006fad"').encode() + b"\n",  # escaped key
        (compact[:-1] + ',"payload":' + json.dumps(obj["payload"]) + "}\n").encode(),  # dup key
        b"\xef\xbb\xbf" + envelope,  # UTF-8 BOM
    ]


def test_non_canonical_forms_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    for variant in _variants(envelope):
        assert variant != envelope
        with pytest.raises(signing.SignatureError):
            signing.verify_envelope(variant, key.public_key(), TYPE)


def test_every_single_byte_change_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    for index in range(len(envelope)):
        for flip in (0x01, 0x20, 0x80):
            data = bytearray(envelope)
            data[index] ^= flip
            with pytest.raises(signing.SignatureError):
                signing.verify_envelope(bytes(data), key.public_key(), TYPE)


def test_truncations_refused(key: Ed25519PrivateKey, envelope: bytes) -> None:
    for end in range(len(envelope)):
        with pytest.raises(signing.SignatureError):
            signing.verify_envelope(envelope[:end], key.public_key(), TYPE)


def test_not_json_refused(key: Ed25519PrivateKey) -> None:
    for data in (b"", b"null\n", b"[]\n", b"\xff\xfe", b'"x"\n'):
        with pytest.raises(signing.SignatureError):
            signing.verify_envelope(data, key.public_key(), TYPE)


# --- trust ---------------------------------------------------------------------------------------


def test_wrong_key_refused(envelope: bytes) -> None:
    other = signing.generate_key()
    with pytest.raises(signing.SignatureError, match="unknown key"):
        signing.verify_envelope(envelope, other.public_key(), TYPE)


def test_forged_keyid_with_other_key_refused(key: Ed25519PrivateKey) -> None:
    """An attacker signs with their key but writes the trusted keyid: the signature fails."""
    attacker = signing.generate_key()
    forged = json.loads(signing.sign_envelope(b"evil", TYPE, attacker))
    forged["signatures"][0]["keyid"] = signing.fingerprint(key)
    data = (json.dumps(forged, sort_keys=True, separators=(",", ":")) + "\n").encode()
    with pytest.raises(signing.SignatureError, match="does not verify"):
        signing.verify_envelope(data, key.public_key(), TYPE)


def test_fingerprint_is_sha256_of_raw_public_key(key: Ed25519PrivateKey) -> None:
    raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert signing.fingerprint(key) == hashlib.sha256(raw).hexdigest()
    assert signing.fingerprint(key.public_key()) == signing.fingerprint(key)
    assert signing.is_fingerprint(signing.fingerprint(key))
    assert signing.is_fingerprint("sha256:" + signing.fingerprint(key).upper())
    assert not signing.is_fingerprint("abc")


def test_load_public_key_by_path_and_by_pinned_fingerprint(tmp_path: Path) -> None:
    files = signing.write_keypair(tmp_path / "keys")
    other = signing.write_keypair(tmp_path / "other")
    by_path = signing.load_public_key(files.public)
    assert signing.fingerprint(by_path) == files.fingerprint
    # A fingerprint selects, among candidates, only the key it pins.
    found = signing.load_public_key(files.fingerprint, [other.public, files.public])
    assert signing.fingerprint(found) == files.fingerprint
    found = signing.load_public_key("sha256:" + files.fingerprint.upper(), [files.public])
    assert signing.fingerprint(found) == files.fingerprint
    with pytest.raises(signing.KeyFileError, match=files.fingerprint) as info:
        signing.load_public_key(files.fingerprint, [other.public, tmp_path / "absent.pub"])
    assert info.value.exit_code == ExitCode.CONFIG
    with pytest.raises(signing.KeyFileError, match="no candidate"):
        signing.load_public_key(files.fingerprint)


def test_private_and_public_keys_round_trip_through_files(tmp_path: Path) -> None:
    files = signing.write_keypair(tmp_path)
    private = signing.load_private_key(files.private)
    public = signing.load_public_key(files.public)
    data = signing.sign_envelope(PAYLOAD, TYPE, private)
    assert signing.verify_envelope(data, public, TYPE) == PAYLOAD
    assert files.private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert files.public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")  # SPKI


def test_bad_key_files_refused(tmp_path: Path) -> None:
    files = signing.write_keypair(tmp_path)
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"not a key\n")
    for call, path in (
        (signing.load_private_key, junk),
        (signing.load_public_key, junk),
        (signing.load_private_key, tmp_path / "missing"),
        (signing.load_private_key, files.public),  # a public key is not a private key
        (signing.load_public_key, files.private),
    ):
        with pytest.raises(signing.KeyFileError) as info:
            call(path)
        assert info.value.exit_code == ExitCode.CONFIG


# --- keygen --------------------------------------------------------------------------------------


def test_keygen_files_and_modes(tmp_path: Path) -> None:
    old = os.umask(0)  # even a permissive umask leaves the private key 0600
    try:
        files = signing.write_keypair(tmp_path / "new" / "dir")
    finally:
        os.umask(old)
    assert files.private.name == "finsig-signing.key"
    assert files.public.name == "finsig-signing.pub"
    assert stat.S_IMODE(files.private.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.public.stat().st_mode) == 0o644
    assert signing.fingerprint(signing.load_public_key(files.public)) == files.fingerprint


@pytest.mark.parametrize("existing", ["finsig-signing.key", "finsig-signing.pub"])
def test_keygen_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_bytes(b"precious\n")
    with pytest.raises(signing.KeyExistsError, match="refusing to overwrite") as info:
        signing.write_keypair(tmp_path)
    assert info.value.exit_code == ExitCode.CONFIG
    assert (tmp_path / existing).read_bytes() == b"precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]


def test_keygen_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "finsig-signing.key").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(signing.KeyExistsError):
        signing.write_keypair(tmp_path)
    assert not (tmp_path / "elsewhere").exists()
