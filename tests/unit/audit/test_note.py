"""Signed notes, checkpoints and cosignatures against the published examples."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from kinko.audit import note
from kinko.audit.checkpoint import Checkpoint, parse_body, sign_checkpoint, verify_checkpoint
from kinko.audit.cosignature import add_signature, cosign, verify_cosignatures
from kinko.core.errors import InputError, IntegrityError


def _vectors(name: str = "signed_note_examples.txt") -> dict[str, str]:
    path = Path(__file__).parents[2] / "vectors" / name
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(": ")
            out[key] = value.replace("\\n", "\n")
    return out


V = _vectors()


def test_peter_neumann_key_ids_and_signature_match_go_byte_for_byte() -> None:
    signer = note.Signer.parse(V["peter.skey"])
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.verifier().text() == V["peter.vkey"]
    assert signer.text() == V["peter.skey"]
    text = V["peter.note"].split("\n\n")[0] + "\n"
    assert note.sign_note(text, signer) == V["peter.note"]
    opened = note.open_note(V["peter.note"], note.Verifier.parse(V["peter.vkey"]))
    assert opened.text == text


def test_c2sp_spec_example_verifies() -> None:
    verifier = note.Verifier.parse(V["c2sp.vkey"])
    assert note.open_note(V["c2sp.note"], verifier).text == "This is an example message.\n"


def test_generated_keys_round_trip_and_key_id_follows_spec() -> None:
    skey, vkey = note.generate_signer("kinko.test/log")
    assert skey.startswith("PRIVATE+KEY+kinko.test/log+")
    verifier = note.Verifier.parse(vkey)
    expected = note.key_id("kinko.test/log", 1, verifier.public_key)
    assert verifier.key_id == expected and vkey.split("+")[1] == expected.hex()
    signed = note.sign_note("hello\n", note.Signer.parse(skey))
    assert note.open_note(signed, verifier).text == "hello\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a verifier key"),
        ("a+b", "a verifier key"),
        ("PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+!!!", "base64"),
    ],
)
def test_bad_verifier_keys_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        note.Verifier.parse(text)


def test_any_flipped_bit_in_the_signed_note_is_rejected() -> None:
    verifier = note.Verifier.parse(V["peter.vkey"])
    raw = V["peter.note"].encode()
    for position in range(len(raw)):
        for bit in (0, 5):
            bad = bytearray(raw)
            bad[position] ^= 1 << bit
            with pytest.raises(IntegrityError):
                note.open_note(bytes(bad), verifier)


def test_unknown_signers_are_ignored_but_a_note_needs_the_known_one() -> None:
    other_skey, _ = note.generate_signer("PeterNeumann")
    signed_by_other = note.sign_note("x\n", note.Signer.parse(other_skey))
    with pytest.raises(IntegrityError, match="not signed by PeterNeumann"):
        note.open_note(signed_by_other, note.Verifier.parse(V["peter.vkey"]))


def test_checkpoint_round_trip_and_origin_binding() -> None:
    skey, vkey = note.generate_signer("kinko.test/log")
    cp = Checkpoint("kinko.test/log", 12, bytes(range(32)))
    text = sign_checkpoint(cp, note.Signer.parse(skey))
    assert text.startswith("kinko.test/log\n12\nAAECAwQF")
    assert verify_checkpoint(text, vkey) == cp
    with pytest.raises(IntegrityError, match="expected log"):
        verify_checkpoint(text, vkey, origin="other/log")


@pytest.mark.parametrize(
    "body",
    [
        "o\n012\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1\nAAAA\n",
        "o\n-1\nx\n",
        "o\n1\n",
    ],
)
def test_malformed_checkpoint_bodies(body: str) -> None:
    with pytest.raises(IntegrityError):
        parse_body(body)


def test_cosignature_threshold_counts_distinct_witnesses() -> None:
    skey, vkey = note.generate_signer("kinko.test/log")
    checkpoint = sign_checkpoint(
        Checkpoint("kinko.test/log", 3, bytes(32)), note.Signer.parse(skey)
    )
    w1 = note.Signer.parse(note.generate_signer("w1.example", note.ALG_COSIGNATURE_V1)[0])
    w2 = note.Signer.parse(note.generate_signer("w2.example", note.ALG_COSIGNATURE_V1)[0])
    once = add_signature(checkpoint, cosign(note.parse_note(checkpoint), w1, 1_700_000_000))
    twice = add_signature(once, cosign(note.parse_note(once), w1, 1_700_000_001))
    verify_checkpoint(twice, vkey)  # witness lines do not disturb the log signature
    witnesses = [w1.verifier(), w2.verifier()]
    with pytest.raises(IntegrityError, match="cosigned by 1/2 required witnesses"):
        verify_cosignatures(twice, witnesses, 2)
    assert [c.timestamp for c in verify_cosignatures(twice, witnesses, 1)] == [1_700_000_001]
    both = add_signature(twice, cosign(note.parse_note(twice), w2, 1_700_000_002))
    assert len(verify_cosignatures(both, witnesses, 2)) == 2
    with pytest.raises(IntegrityError, match="future"):
        verify_cosignatures(both, witnesses, 2, now=1_700_000_001)
    with pytest.raises(InputError, match="twice"):
        verify_cosignatures(both, [w1.verifier(), w1.verifier()], 1)
    tampered = both.replace("\n3\n", "\n4\n")
    with pytest.raises(IntegrityError):
        verify_cosignatures(tampered, witnesses, 1)


def test_cosignature_message_layout_follows_spec() -> None:
    from kinko.audit.cosignature import cosigned_message

    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosigned_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + body.encode()
    )


SUMDB = _vectors("signed_note_sumdb.txt")


@pytest.mark.parametrize("size", [31700353, 65209736])
def test_real_go_checksum_database_checkpoints_verify(size: int) -> None:
    text = SUMDB[f"note.{size}"]
    checkpoint = verify_checkpoint(text, SUMDB["vkey"], origin=SUMDB["origin"])
    assert checkpoint.size == size
    assert base64.b64encode(checkpoint.root_hash).decode() in text
    with pytest.raises(IntegrityError, match="expected log"):
        verify_checkpoint(text, SUMDB["vkey"])  # the key name is not the origin
    with pytest.raises(IntegrityError, match="does not verify"):
        verify_checkpoint(
            text.replace(f"\n{size}\n", f"\n{size + 1}\n"), SUMDB["vkey"], origin=SUMDB["origin"]
        )
