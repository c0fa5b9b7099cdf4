"""Certificates read per second by bot.certs.read_certificate, per upload format (prints figures).

Run: .venv/bin/python bench/bench_certs.py
Pinned to one core; each figure is the best of ROUNDS rounds (like timeit), with the garbage
collector on. The headline case is a PEM bundle of leaf + 2 CA certificates (target 2,000/s).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.certs.reader import read_certificate
from tests import certgen as g

TODAY = date(2026, 6, 1)
ROUNDS = 5
SECONDS = 0.3


def rate(run: Callable[[], object]) -> float:
    """Best calls per second over ROUNDS rounds of about SECONDS each."""
    for _ in range(20):
        run()
    best = 0.0
    for _ in range(ROUNDS):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < SECONDS:
            for _ in range(25):
                run()
            count += 25
        best = max(best, count / elapsed)
    return best


def main() -> None:
    """Print one line per case: reads per second, microseconds per read, and the verdict."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    chain = g.hierarchy("g1-production")
    leaf = g.server_cert()
    bundle = g.pem(leaf, chain.server_ca, chain.intermediate)
    cases: list[tuple[str, bytes, Sequence[x509.Certificate] | None]] = [
        ("PEM bundle leaf+2 CAs, shipped trust", bundle, None),
        ("PEM bundle leaf+2 CAs, verified chain", bundle, chain.cas),
        ("PEM single certificate", g.pem(leaf), None),
        ("DER (.cer)", g.der(leaf), None),
        ("DER G4 RSA-PSS 4096", g.der(g.server_cert("g4", key_bits=4096)), None),
        ("PKCS#7 DER (.p7b) leaf+3 CAs", g.p7([leaf, *chain.cas]), None),
        ("PKCS#7 PEM leaf+3 CAs", g.p7([leaf, *chain.cas], as_pem=True), None),
        ("PKCS#12 without key", g.p12(leaf, cas=chain.cas), None),
        ("PKCS#12 with key", g.p12(leaf, key=g.rsa_key(), cas=chain.cas), None),
        ("PEM with private key", g.key_pem() + g.pem(leaf), None),
        ("garbage", os.urandom(2048), None),
    ]
    print(f"read_certificate on one core: best of {ROUNDS} rounds of {SECONDS} s per case")
    for label, data, trust in cases:
        run = functools.partial(read_certificate, data, "bench", today=TODAY, trust=trust)
        report = run()
        per_second = rate(run)
        print(
            f"{label:<40} {per_second:>9,.0f}/s {1e6 / per_second:>8.1f} us  "
            f"verdict={report.verdict} chain={report.chain_verified}"
        )


if __name__ == "__main__":
    main()
