"""HMAC verification of webhook bodies and the shared-secret header."""

from __future__ import annotations

from bot.signature import body_delivery_id, sign, verify_shared_secret, verify_signature

BODY = b'{"webhookEvent":"jira:issue_created"}'


def test_signature_of_any_rotated_secret_is_accepted() -> None:
    secrets = [b"new", b"old"]
    assert verify_signature(BODY, sign(BODY, b"new"), secrets)
    assert verify_signature(BODY, sign(BODY, b"old"), secrets)
    assert verify_signature(BODY, sign(BODY, b"old").upper().replace("SHA256", "sha256"), secrets)


def test_wrong_missing_or_malformed_signatures_are_refused() -> None:
    secrets = [b"new"]
    assert not verify_signature(BODY, sign(BODY, b"other"), secrets)
    assert not verify_signature(BODY + b" ", sign(BODY, b"new"), secrets)
    assert not verify_signature(BODY, None, secrets)
    assert not verify_signature(BODY, "", secrets)
    assert not verify_signature(BODY, "sha1=" + sign(BODY, b"new")[7:], secrets)
    assert not verify_signature(BODY, "sha256=", secrets)
    assert not verify_signature(BODY, sign(BODY, b"new"), [])
    good = sign(BODY, b"new")
    spaced = good[:20] + " " + good[20:]  # the right MAC, written with a space inside
    assert not verify_signature(BODY, spaced, secrets)
    assert not verify_signature(BODY, good[:-1] + "g", secrets)
    assert not verify_signature(BODY, good + "00", secrets)
    assert verify_signature(BODY, " " + good + " ", secrets)  # around it is trimmed, as before


def test_shared_secret_header() -> None:
    assert verify_shared_secret(" s3cret ", [b"s3cret"])
    assert not verify_shared_secret("s3cre", [b"s3cret"])
    assert not verify_shared_secret(None, [b"s3cret"])


def test_body_hash_is_the_fallback_delivery_id() -> None:
    assert body_delivery_id(BODY) == body_delivery_id(BODY)
    assert body_delivery_id(BODY) != body_delivery_id(BODY + b"x")
    assert body_delivery_id(BODY).startswith("sha256:")
