"""Travellers, the listed person under a variant spelling, and the truths of ordinary subjects."""

from __future__ import annotations

import random
import string
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from apps.simulator import world
from apps.simulator.generators.plans import Person, Truth, rng_for

# --- People and the watchlist ---------------------------------------------------------------------------


def _person(rng: random.Random, nationality: str, today: date, truth: Truth | None = None) -> Person:
    males, females, surnames = world.NAMES.get(nationality, world.NAMES["GBR"])
    sex = rng.choice("MF")
    age_days = rng.randint(19 * 365, 72 * 365)
    return Person(
        surname=rng.choice(surnames),
        given=rng.choice(males if sex == "M" else females),
        sex=sex,
        born=today - timedelta(days=age_days),
        nationality=nationality,
        document=f"{rng.choice(string.ascii_uppercase)}{rng.randint(10_000_000, 99_999_999)}",
        document_expiry=today + timedelta(days=rng.randint(60, 3600)),
        truth=truth,
    )


#: Spelling variants a carrier, a travel agent or a forger might produce.
_VARIANTS = (
    ("MOHAMMED", "MUHAMMAD"), ("MOHAMMAD", "MUHAMMED"), ("MUHAMMAD", "MOHAMED"), ("AHMED", "AHMAD"),
    ("YUSUF", "YOUSSEF"), ("ABDUL", "ABDOUL"), ("HUSSEIN", "HUSAIN"), ("OU", "U"), ("KH", "H"),
    ("EE", "I"), ("Y", "I"), ("AL-", "AL "), ("-", " "), ("SS", "S"), ("LL", "L"), ("TT", "T"),
)  # fmt: skip


def name_variant(name: str, rng: random.Random) -> str:
    """A plausible other spelling of ``name`` (one or two transliteration changes), never the same."""
    variant = name.upper()
    for old, new in rng.sample(_VARIANTS, len(_VARIANTS)):
        if old in variant:
            variant = variant.replace(old, new, 1)
            if variant != name.upper() and rng.random() < 0.6:
                break
    if variant == name.upper():  # nothing to transliterate: drop a doubled or inner vowel
        for i in range(len(variant) - 2, 0, -1):
            if variant[i] in "AEIOU" and variant[i - 1].isalpha() and variant[i + 1].isalpha():
                return variant[:i] + variant[i + 1 :]
    return variant


_COUNTRY_ISO3 = {
    "Afghanistan": "AFG", "Iraq": "IRQ", "Pakistan": "PAK", "Yemen": "YEM", "Somalia": "SOM",
    "Syrian Arab Republic": "SYR", "Libya": "LBY", "Saudi Arabia": "SAU", "Sudan": "SDN",
    "Egypt": "EGY", "Jordan": "JOR", "Kuwait": "KWT", "Indonesia": "IDN", "Philippines": "PHL",
    "Democratic Republic of the Congo": "COD", "Tunisia": "TUN", "Algeria": "DZA", "Morocco": "MAR",
}  # fmt: skip


def listed_person(path: Path, seed: int | str, today: date) -> tuple[Person, str] | None:
    """A person on the UN list (exact date of birth, known nationality), under a variant of the name.

    Returns the traveller and the listed name, or None when the file is missing or has no such person.
    """
    if not path.exists():
        return None
    candidates: list[tuple[str, str, date, str]] = []
    for _, element in ElementTree.iterparse(path, events=("end",)):  # noqa: S314 (our own shared public data)
        if element.tag != "INDIVIDUAL":
            continue
        first = (element.findtext("FIRST_NAME") or "").strip()
        second = (element.findtext("SECOND_NAME") or "").strip()
        born = None
        for dob in element.findall("INDIVIDUAL_DATE_OF_BIRTH"):
            raw = (dob.findtext("DATE") or "").strip()
            if (dob.findtext("TYPE_OF_DATE") or "").strip() == "EXACT" and len(raw) >= 10:
                try:
                    born = date.fromisoformat(raw[:10])
                except ValueError:
                    born = None
        country = (element.findtext("NATIONALITY/VALUE") or "").strip()
        if first and second and born and country in _COUNTRY_ISO3 and " " not in second:
            candidates.append((first, second, born, _COUNTRY_ISO3[country]))
        element.clear()
    if not candidates:
        return None
    rng = rng_for(seed, "listed")
    first, second, born, nationality = rng.choice(sorted(candidates))
    given = first.split()[0]
    person = Person(
        surname=name_variant(second, rng),
        given=name_variant(given, rng) if rng.random() < 0.5 else given,
        sex="M",
        born=born,
        nationality=nationality,
        document=f"{rng.choice('PNR')}{rng.randint(1_000_000, 9_999_999)}",
        document_expiry=today + timedelta(days=900),
        truth=Truth(
            "listed", True, "refusal", note="Listed person under a variant spelling; refused leave to enter."
        ),
    )
    return person, f"{first} {second}"


# --- Truth helpers -------------------------------------------------------------------------------------


def _background(rng: random.Random, kind: str, value: float = 0.0) -> Truth:
    """An ordinary subject: almost always clean, sometimes a small irregularity."""
    roll = rng.random()
    if kind == "traveller":
        if roll < 0.008:
            return Truth("background", True, "seizure", "tobacco", 3200, "sticks", 1400.0,
                         note="Cigarettes over the allowance in the suitcase.")  # fmt: skip
        if roll < 0.013:
            return Truth("background", True, "seizure", "currency", 14500, "money", 14500.0,
                         note="Undeclared cash over EUR 10,000.")  # fmt: skip
        return Truth("background", False)
    if roll < 0.03:
        return Truth("background", True, "irregularity", revenue=round(max(value, 2000) * 0.12, 2),
                     note="Misclassified goods: duty underpaid.")  # fmt: skip
    if roll < 0.035:
        return Truth("background", True, "seizure", "counterfeit", 40, "pcs", 3600.0,
                     note="Counterfeit branded goods among the load.")  # fmt: skip
    return Truth("background", False)


def truth_key_for(kind: str, facts: dict[str, Any]) -> str:
    """The truth key of a stored subject (travellers by document, consignments by declaration)."""
    if kind == "traveller" and facts.get("document_number"):
        return f"doc:{facts['document_number']}"
    if kind == "consignment" and facts.get("declaration_id"):
        return f"decl:{facts['declaration_id']}"
    return ""


def person(rng: random.Random, nationality: str, today: date, truth: Truth | None = None) -> Person:
    """An ordinary traveller of ``nationality`` (a common name, a passport, an age of 19 to 72)."""
    return _person(rng, nationality, today, truth)


def background_truth(rng: random.Random, kind: str, value: float = 0.0) -> Truth:
    """What an examination of an ordinary subject finds: almost always nothing."""
    return _background(rng, kind, value)
