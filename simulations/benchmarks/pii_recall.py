"""PII recall of the device masker: Presidio's default recognizers vs fedsift's set.

Usage::

    python -m fedsift.simulations.benchmarks.pii_recall --n 500 --seed 7 --json runs/bench/pii_recall.json

Generates ``n`` English messages with Faker (seeded), each embedding three synthetic
PII values of different types (email; credit card incl. Mastercard 2-series and 19-digit
Visa; IBAN; IPv4/IPv6; URL; US SSN; dates incl. "October 03, 1953"; phone; street
line; person name), runs each configuration's analyzer on every message and reports
recall per injected type, plus throughput (texts/s, analysis + replacement).

**Caught** (precise definition): an injected value counts as caught when *every
alphanumeric character* of its span in the message lies inside at least one detected
span (of any entity type, at the configuration's score threshold, 0 = every hit) - i.e.
after replacement no letter or digit of it survives; separators such as ``-``, ``.`` or
spaces may. A card cut after 15 digits, or ``https://shop.bi`` of ``https://shop.biz/``,
is a miss. Recall = caught / injected, per type.

Configurations: ``presidio`` - Presidio's predefined recognizers on the no_op NLP
engine (its default registry without a model); ``fedsift`` - fedsift's default policy;
``fedsift+spacy`` - with the optional spaCy model (PERSON, LOCATION), when installed.
Names (PERSON) are only expected from the spaCy configuration.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsift.offline import apply_offline_environment

KINDS = ("EMAIL", "CREDIT_CARD", "IBAN", "IP", "URL", "US_SSN", "DATE", "PHONE", "ADDRESS", "PERSON")

TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": ("You can email me at {v}.", "Send the invoice to {v} please", "contact: {v}"),
    "CREDIT_CARD": ("My card number is {v}, please charge it.", "cc {v} exp 09/29", "Paid with {v}."),
    "IBAN": ("Wire it to IBAN {v} by Friday.", "account {v}", "My bank account is {v}."),
    "IP": ("The login came from {v} last night.", "server ip={v}", "blocked {v} twice"),
    "URL": ("See {v} for the photos.", "link: {v}", "I found it on {v} yesterday"),
    "US_SSN": ("My SSN is {v}.", "social security number {v}", "ssn: {v}"),
    "DATE": ("I was born on {v}.", "DOB {v}", "The appointment is {v}, don't forget."),
    "PHONE": ("Call me at {v} after six.", "phone: {v}", "My number is {v}."),
    "ADDRESS": ("I live at {v}, near the park.", "Ship it to {v}.", "address: {v}"),
    "PERSON": ("Ask {v} about it.", "This is {v} speaking.", "{v} signed the form."),
}

DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y")


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # doubled positions, counted from the (future) check digit
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _group(number: str, rng: random.Random) -> str:
    sep = rng.choice(["", " ", "-"])
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4)) if sep else number


def _generators(fake: Any, rng: random.Random) -> dict[str, Callable[[], tuple[str, str]]]:
    """Per kind, a function returning (value, variant label)."""

    def card() -> tuple[str, str]:
        variant = rng.choice(["mastercard_2series", "visa19", "visa16", "mastercard_5x", "amex", "discover"])
        if variant == "mastercard_2series":
            number = _luhn_complete(str(rng.randint(2221, 2720)), 16, rng)
        elif variant == "visa19":
            number = _luhn_complete("4", 19, rng)
        elif variant == "visa16":
            number = _luhn_complete("4", 16, rng)
        elif variant == "mastercard_5x":
            number = _luhn_complete(str(rng.randint(51, 55)), 16, rng)
        else:
            number = fake.credit_card_number(card_type=variant)
        return _group(number, rng), variant

    def iban() -> tuple[str, str]:
        value = fake.iban()
        return (" ".join(value[i:i + 4] for i in range(0, len(value), 4)), "grouped") if rng.random() < 0.3 \
            else (value, "compact")

    def date() -> tuple[str, str]:
        fmt = rng.choice(DATE_FORMATS)
        return fake.date_of_birth(minimum_age=1, maximum_age=95).strftime(fmt), fmt

    return {
        "EMAIL": lambda: (fake.email(), "email"),
        "CREDIT_CARD": card,
        "IBAN": iban,
        "IP": lambda: (fake.ipv4(), "v4") if rng.random() < 0.6 else (fake.ipv6(), "v6"),
        "URL": lambda: (fake.url(), "url") if rng.random() < 0.5 else (fake.uri(), "uri"),
        "US_SSN": lambda: (fake.ssn(), "ssn"),
        "DATE": date,
        "PHONE": lambda: (fake.phone_number(), "phone"),
        "ADDRESS": lambda: (fake.street_address(), "street"),
        "PERSON": lambda: (f"{fake.first_name()} {fake.last_name()}", "first last"),
    }


@dataclass
class Injected:
    kind: str
    variant: str
    value: str
    start: int
    end: int


def make_corpus(n: int, seed: int) -> list[tuple[str, list[Injected]]]:
    """``n`` messages, each with three PII values of different kinds (seeded)."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    gens = _generators(fake, rng)
    corpus = []
    for i in range(n):
        # Rotate through the kinds so every kind gets about 3n/10 values.
        kinds = [KINDS[(3 * i + j) % len(KINDS)] for j in range(3)]
        parts: list[str] = [fake.sentence(nb_words=6)]
        injected: list[Injected] = []
        for kind in kinds:
            value, variant = gens[kind]()
            sentence = rng.choice(TEMPLATES[kind])
            offset = len(" ".join(parts)) + 1 + sentence.index("{v}")
            parts.append(sentence.format(v=value))
            injected.append(Injected(kind, variant, value, offset, offset + len(value)))
        text = " ".join(parts)
        for inj in injected:
            assert text[inj.start:inj.end] == inj.value
        corpus.append((text, injected))
    return corpus


def caught(inj: Injected, spans: list[tuple[int, int]]) -> bool:
    """Whether every alphanumeric character of the injected span is inside a detected span."""
    return all(any(s <= pos < e for s, e in spans)
               for pos in range(inj.start, inj.end) if inj.value[pos - inj.start].isalnum())


def evaluate(name: str, analyzer: Any, corpus: list[tuple[str, list[Injected]]],
             threshold: float = 0.0) -> dict[str, Any]:
    """Recall per kind (and per card/date variant) and throughput of one analyzer."""
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig

    anonymizer = AnonymizerEngine()
    hits: dict[str, list[int]] = {}
    variants: dict[str, list[int]] = {}
    misses: dict[str, list[str]] = {}
    start = time.perf_counter()
    for text, injected in corpus:
        results = analyzer.analyze(text=text, language="en", score_threshold=threshold)
        anonymizer.anonymize(text=text, analyzer_results=results, operators={"DEFAULT": OperatorConfig("replace")})
        spans = [(r.start, r.end) for r in results]
        for inj in injected:
            ok = caught(inj, spans)
            hits.setdefault(inj.kind, [0, 0])[0] += ok
            hits[inj.kind][1] += 1
            if inj.kind in ("CREDIT_CARD", "DATE"):
                key = f"{inj.kind}:{inj.variant}"
                variants.setdefault(key, [0, 0])[0] += ok
                variants[key][1] += 1
            if not ok and len(misses.setdefault(inj.kind, [])) < 5:
                misses[inj.kind].append(inj.value)
    seconds = time.perf_counter() - start
    return {
        "config": name,
        "recall": {k: hits[k][0] / hits[k][1] for k in KINDS if k in hits},
        "counts": {k: hits[k] for k in KINDS if k in hits},
        "variants": {k: v[0] / v[1] for k, v in sorted(variants.items())},
        "texts_per_second": len(corpus) / seconds,
        "example_misses": misses,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table and return (and optionally write) the figures."""
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="number of messages (3 PII values each)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--no-spacy", action="store_true", help="skip the spaCy configuration")
    args = parser.parse_args(argv)

    import spacy.util

    from fedsift.privacy.masking import DEFAULT_SPACY_MODEL, MaskingPolicy, analyzer_for, presidio_default_analyzer

    corpus = make_corpus(args.n, args.seed)
    configs: list[tuple[str, Any]] = [("presidio", presidio_default_analyzer()),
                                      ("fedsift", analyzer_for(MaskingPolicy()))]
    spacy_available = spacy.util.is_package(DEFAULT_SPACY_MODEL)
    if spacy_available and not args.no_spacy:
        configs.append(("fedsift+spacy", analyzer_for(MaskingPolicy(use_spacy_model=True))))
    runs = [evaluate(name, analyzer, corpus) for name, analyzer in configs]

    names = [r["config"] for r in runs]
    print(f"PII recall, {args.n} messages, seed {args.seed} (caught = no letter/digit of the value survives)")
    print(f"{'type':<32} {'n':>5} " + " ".join(f"{n:>14}" for n in names))
    for kind in KINDS:
        total = runs[0]["counts"][kind][1]
        print(f"{kind:<32} {total:>5} " + " ".join(f"{r['recall'][kind]:>14.3f}" for r in runs))
    for key in runs[0]["variants"]:
        print(f"  {key:<30} {'':>5} " + " ".join(f"{r['variants'][key]:>14.3f}" for r in runs))
    print(f"{'throughput (texts/s)':<32} {'':>5} " + " ".join(f"{r['texts_per_second']:>14.1f}" for r in runs))
    if not spacy_available:
        print(f"(spaCy model {DEFAULT_SPACY_MODEL} not installed: PERSON is not expected to be caught)")

    out = {"n": args.n, "seed": args.seed, "spacy_model_installed": spacy_available, "runs": runs}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
