"""Verifies a certificate's chain, step by step, up to the shipped UZI CA certificates."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from bot.certs.uzi_profile import issuer_label, subject_label

MAX_DEPTH = 8
Link = Literal["ok", "other_name", "bad_signature"]


@dataclass(frozen=True)
class ChainResult:
    """True: verified to a trusted CA; False: a signature failed; None: issuer not trusted."""

    verified: bool | None
    path: tuple[x509.Certificate, ...] = ()
    problems: tuple[str, ...] = ()


class TrustStore:
    """Trusted CA certificates by subject; each one's walk to its root is verified once.

    Every certificate in the store is a trust anchor: a chain that reaches one is verified,
    provided the links from there up to its root inside the store verify too.
    """

    def __init__(self, certificates: Iterable[x509.Certificate]) -> None:
        self.certificates = tuple(dict.fromkeys(certificates))
        self._members = frozenset(self.certificates)
        self._by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for cert in self.certificates:
            self._by_subject.setdefault(cert.subject, []).append(cert)
        self._tails: dict[x509.Certificate, ChainResult] = {}

    def __contains__(self, cert: object) -> bool:
        return cert in self._members

    def named(self, name: x509.Name) -> list[x509.Certificate]:
        """The trusted certificates whose subject is this name."""
        return self._by_subject.get(name, [])

    def tail(self, cert: x509.Certificate) -> ChainResult:
        """The walk from a trusted certificate to its root inside the store (memoised)."""
        if cert not in self._tails:
            self._tails[cert] = self._walk_inside(cert)
        return self._tails[cert]

    def _walk_inside(self, cert: x509.Certificate) -> ChainResult:
        path: list[x509.Certificate] = []
        current = cert
        for _ in range(MAX_DEPTH):
            if current.subject == current.issuer:
                return ChainResult(True, tuple(path))
            parents = self.named(current.issuer)
            if not parents:
                return ChainResult(True, tuple(path))  # an anchor without its root
            parent = next((p for p in parents if link(current, p) == "ok"), None)
            if parent is None:
                return ChainResult(False, tuple(path), (_bad_signature(current, True),))
            path.append(parent)
            current = parent
        return ChainResult(None, tuple(path), ("The certificate chain is too long to check.",))


def link(child: x509.Certificate, parent: x509.Certificate) -> Link:
    """Whether parent issued child; the name check runs in Rust, before any signature work."""
    try:
        child.verify_directly_issued_by(parent)
    except ValueError:
        return "other_name"
    except (TypeError, InvalidSignature, UnsupportedAlgorithm):
        return "bad_signature"
    return "ok"


def load_pem_directory_certificates() -> tuple[x509.Certificate, ...]:
    """Read every bot/certs/ca/*.pem file (package data) into certificates, by file name."""
    certs: list[x509.Certificate] = []
    folder = resources.files("bot.certs").joinpath("ca")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".pem"):
            certs.extend(x509.load_pem_x509_certificates(entry.read_bytes()))
    return tuple(certs)


@functools.cache
def shipped_trust_store() -> TrustStore:
    """The shipped UZI CA certificates (G1 production and test), loaded on first use."""
    return TrustStore(load_pem_directory_certificates())


@functools.lru_cache(maxsize=16)
def trust_store_for(certificates: tuple[x509.Certificate, ...]) -> TrustStore:
    """A trust store for a caller-provided set of CA certificates (cached per set)."""
    return TrustStore(certificates)


def verify_chain(
    leaf: x509.Certificate,
    others: Sequence[x509.Certificate],
    store: TrustStore,
    *,
    today: date,
) -> ChainResult:
    """Walk from the leaf up to a trusted root, through trusted and uploaded CA certificates."""
    result = _walk(leaf, tuple(others), store, 0)
    problems = list(result.problems)
    for cert in result.path:
        if cert.not_valid_after_utc.date() < today:
            day = cert.not_valid_after_utc.date().isoformat()
            problems.append(f"The CA certificate {subject_label(cert)!r} expired on {day}.")
    return ChainResult(result.verified, result.path, tuple(problems))


def _walk(
    current: x509.Certificate,
    others: tuple[x509.Certificate, ...],
    store: TrustStore,
    depth: int,
) -> ChainResult:
    if current in store:
        return store.tail(current)
    if depth >= MAX_DEPTH:
        return ChainResult(None, (), ("The certificate chain is too long to check.",))
    trusted = store.named(current.issuer)
    uploaded = [c for c in others if c is not current and c not in store]
    links = [(c, link(current, c)) for c in [*trusted, *uploaded]]
    parent = next((c for c, outcome in links if outcome == "ok"), None)
    if parent is None:
        return ChainResult(*_dead_end(current, depth, links, store))
    rest = _walk_cached(parent, others, store, depth + 1)
    return ChainResult(rest.verified, (parent, *rest.path), rest.problems)


@functools.lru_cache(maxsize=256)
def _walk_cached(
    current: x509.Certificate,
    others: tuple[x509.Certificate, ...],
    store: TrustStore,
    depth: int,
) -> ChainResult:
    """The walk above the leaf: the same CA certificates come back upload after upload."""
    return _walk(current, others, store, depth)


def _dead_end(
    current: x509.Certificate,
    depth: int,
    links: list[tuple[x509.Certificate, Link]],
    store: TrustStore,
) -> tuple[bool | None, tuple[x509.Certificate, ...], tuple[str, ...]]:
    """No parent verifies: a bad signature (False) or an issuer we do not know (None)."""
    named_trusted = any(c in store and outcome != "other_name" for c, outcome in links)
    if depth > 0 and current.subject == current.issuer:
        if store.named(current.subject):
            return False, (), (_impostor(current),)
        return None, (), (_untrusted_root(current),)
    if any(outcome == "bad_signature" for _, outcome in links):
        return False, (), (_bad_signature(current, named_trusted),)
    return None, (), (_unknown_issuer(current, depth == 0),)


def _unknown_issuer(cert: x509.Certificate, is_leaf: bool) -> str:
    if is_leaf:
        return (
            f"The issuer {issuer_label(cert)!r} is not one of the shipped UZI CA certificates, "
            "so the chain could not be checked."
        )
    return (
        f"The chain stops at {subject_label(cert)!r}, whose issuer {issuer_label(cert)!r} is "
        "not one of the shipped UZI CA certificates, so the chain could not be checked."
    )


def _untrusted_root(cert: x509.Certificate) -> str:
    return (
        f"The chain ends at the root {subject_label(cert)!r}, which is not one of the shipped "
        "UZI CA certificates, so the chain could not be checked."
    )


def _impostor(cert: x509.Certificate) -> str:
    return (
        f"The root {subject_label(cert)!r} in the upload carries the name of a shipped UZI "
        "root CA but is a different certificate; the chain is not trusted."
    )


def _bad_signature(cert: x509.Certificate, known: bool) -> str:
    where = "the shipped UZI CA" if known else "the CA certificate in the upload"
    return (
        f"The signature of {subject_label(cert)!r} does not verify against {where} named "
        f"{issuer_label(cert)!r}: it was not issued by that CA, or it was altered."
    )
