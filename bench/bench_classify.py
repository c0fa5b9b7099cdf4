"""Time per classification of one portal request against the length of its description.

Run: python bench/bench_classify.py [--max-seconds S]
One classification is what the worker does per request: `classify` (the routing decision)
plus `read_request_facts` (vendors named in the words). Three texts per size: `prose` (Dutch
request sentences, repeated), `one-sentence` (the same words without a sentence end, the
worst case for per-sentence matching) and `random-words` (one sentence of made-up words, so
nothing repeats). Each figure is the best of a few runs, each run with a cold phrase index
(its remembered lookups dropped first); a size whose previous size took longer than
--max-seconds is skipped (the old code needs minutes for 1 MB).
The last column is microseconds per 1,000 characters: flat means linear.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.context import HandlerContext
from bot.events import Event
from bot.mappings import Mappings, load_mappings
from handlers.classify import classify, read_request_facts

SIZES = (1_000, 8_000, 32_000, 1_000_000)
SENTENCES = (
    "Goedemorgen, wij hebben een vraag over onze praktijk.",
    "Het abonneenummer van onze praktijk is per 1 maart gewijzigd!",
    "De praktijknaam blijft hetzelfde en de contracthouder ook.",
    "Wij werken met Promedico ASP en soms met CGM Huisarts of MicroHIS.",
    "Het UZI-servercertificaat verloopt binnenkort, kunt u het vernieuwen?",
    "De nieuwe pashouder is dokter Jansen; de oude houder van de pas is vertrokken.",
    "Hoe lang duurt het voordat DigiD weer werkt voor de patienten?",
    "Onze apotheek heeft geen andere naam gekregen, het OIN nummer is niet veranderd.",
)


def random_words(size: int) -> str:
    """Made-up lower-case words, 2 to 12 letters, separated by spaces; no sentence end."""
    rng = random.Random(10)
    words: list[str] = []
    length = 0
    while length < size:
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 12)))
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def description(size: int, *, one_sentence: bool) -> str:
    """Dutch request text of at least `size` characters."""
    text = " ".join(SENTENCES)
    if one_sentence:
        text = text.replace(".", ",").replace("!", ",").replace("?", ",").replace(";", ",")
    return (text + " ") * (size // (len(text) + 1) + 1)


def event(text: str) -> Event:
    return Event(
        delivery_id="bench",
        name="jira:issue_created",
        issue_key="UZO-1",
        project_key="UZO",
        issue_type="Service Request",
        request_type_id="105",
        request_type_name="Overig",
        summary="Wijziging",
        description=text,
    )


def forget(maps: Mappings) -> None:
    """Start from a cold phrase index (the old code has no index: nothing to drop)."""
    for name in ("sentence_index", "text_index", "_vendor_index"):
        index = getattr(maps, name, None)
        if index is not None:
            index.forget()


def classify_once(ev: Event, ctx: HandlerContext) -> None:
    forget(ctx.mappings)
    classify(ev, ctx)
    read_request_facts(ev, ctx)


def best_time(ev: Event, ctx: HandlerContext, budget: float) -> float:
    start = time.perf_counter()
    classify_once(ev, ctx)
    best = time.perf_counter() - start
    runs = 1
    while runs < 5 and best * runs < budget:
        start = time.perf_counter()
        classify_once(ev, ctx)
        best = min(best, time.perf_counter() - start)
        runs += 1
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=20.0)
    args = parser.parse_args()
    maps: Mappings = load_mappings()
    ctx = HandlerContext(
        mappings=maps, today=date(2026, 6, 1), tracking_project="UZO", service_desk_project="UZO"
    )
    print(f"{'text':<13} {'chars':>9} {'ms/classification':>18} {'us per 1k chars':>16}")
    for kind in ("prose", "one-sentence", "random-words"):
        previous = 0.0
        for size in SIZES:
            if kind == "random-words":
                text = random_words(size)[:size]
            else:
                text = description(size, one_sentence=kind == "one-sentence")[:size]
            if previous > args.max_seconds:
                print(f"{kind:<13} {size:>9,} {'skipped':>18}")
                continue
            seconds = best_time(event(text), ctx, budget=1.0)
            previous = seconds
            per_k = seconds * 1e6 / (size / 1000)
            print(f"{kind:<13} {size:>9,} {seconds * 1000:>18.1f} {per_k:>16.0f}")


if __name__ == "__main__":
    main()
