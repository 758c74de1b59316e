"""Name normalisation, pair scoring, the screening index and the labelled-pair F1 floor."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from apps.watchlists.matching import (
    DEFAULT_THRESHOLD,
    ScreeningIndex,
    name_similarity,
    normalize_name,
    tokenize,
)

#: Measured 0.852 (precision 0.882, recall 0.824) at DEFAULT_THRESHOLD; nomenklatura logic-v2
#: scores 0.796 on the same pairs. A drop below this floor is a regression.
F1_FLOOR = 0.83


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Mr. Recep Tayyip Erdoğan", "recep tayyip erdogan"),
        ("MALKEVICH, Alexander Aleksandrovich", "alexander aleksandrovich malkevich"),
        ("Владимир Путин", "vladimir putin"),
        ("Jean-Marie  Le Pen", "jean marie le pen"),
        ("Sergey Sergey Shoigu", "sergey shoigu"),
        # Plain ASCII letters, as API data arrives (``tokenize``'s shortcut), and the words that leave it.
        ("OLIVER  JAMES BROWN", "oliver james brown"),
        ("JOHN JOHN SMITH", "john smith"),
        ("MR JOHN SMITH", "john smith"),
        ("HENRY THE EIGHTH", "henry the 8"),
        ("JOHN SMITH LIMITED", "john smith ltd"),
    ],
)
def test_normalize_name(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal


def test_organisation_normalisation() -> None:
    assert normalize_name("Open Joint Stock Company Gazprom", organisation=True) == "ojsc gazprom"
    assert normalize_name("A.B.C. Company", organisation=True) == "abc co"
    assert normalize_name("Brigade Forty-Four", organisation=True) == "brigade 44"


def test_tokens_carry_weights() -> None:
    tokens = {t.text: t for t in tokenize("Ayman al Zawahiri")}
    assert tokens["al"].minor and tokens["al"].weight < tokens["ayman"].weight


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mohammed Ali", "Muhammad Ali"),
        ("Mohamed Ali", "Mohammad Ali"),
        ("Ivan Petroff", "Ivan Petrov"),
        ("Khalid Sheikh", "Halid Sheikh"),
        ("Yusuf Islam", "Jusuf Islam"),
        ("Youssef Boukhari", "Yusef Bukhari"),
        ("Volodymyr Zelenskyy", "Wolodymyr Zelenskyj"),
        ("Александр Малькевич", "Alexander Malkevich"),
        ("Usama bin Ladin", "Osama bin Laden"),
        ("Frost, William W.", "William W Frost"),
        ("Vladimir Pulin", "Vladimir Putin"),
    ],
)
def test_transliteration_variants_match(a: str, b: str) -> None:
    assert name_similarity(a, b, "person") >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Roman Fico", "Robert Fico"),
        ("KIM JONG MAN", "KIM JONG SIK"),
        ("WALIJAN ABDUL GHAFOOR HAQQANI", "WALIJAN"),
        ("TARIQ ANWAR EL SAYED MOHAMED", "TARIQ ANWAR EL SAYED AHMED"),
        ("John Smith", "Jane Doe"),
    ],
)
def test_different_people_do_not_match(a: str, b: str) -> None:
    assert name_similarity(a, b, "person") < DEFAULT_THRESHOLD


def test_organisation_and_acronym() -> None:
    assert name_similarity("Vodafone Ltd", "Vodafone Limited", "organisation") >= 0.95
    assert name_similarity("PLA", "People's Liberation Army", "organisation") >= DEFAULT_THRESHOLD
    assert name_similarity("Siemens AG", "SiemensAG", "organisation") >= DEFAULT_THRESHOLD


def test_score_bounds() -> None:
    assert name_similarity("", "x") == 0.0
    assert name_similarity("Ayman al-Zawahiri", "Ayman al-Zawahiri") == 1.0


def test_cyrillic_spelling_finds_listed_entry(index: ScreeningIndex) -> None:
    # OFAC lists him only in Latin script.
    hits = index.screen("Малькевич Александр Александрович", kind="person")
    assert hits and hits[0].entry_id == "OFAC-26235"


def test_arabic_spelling_finds_listed_entry(index: ScreeningIndex) -> None:
    # Short form in Arabic script; the UN list holds the full four-part original.
    hits = index.screen("أيمن الظواهري", kind="person")
    assert "UN-111923" in [h.entry_id for h in hits[:3]] or "OFAC-2676" in [h.entry_id for h in hits[:3]]


def test_latin_variant_finds_entry(index: ScreeningIndex) -> None:
    hits = index.screen("Aiman Mohamed al-Zawahri")
    assert {"UN-111923", "OFAC-2676"} & {h.entry_id for h in hits}


def test_date_of_birth_raises_and_conflict_lowers(index: ScreeningIndex) -> None:
    name = "Alexander Malkevich"
    plain = index.screen(name, threshold=0.0)[0]
    same = index.screen(name, date_of_birth="1975-06-14", threshold=0.0)[0]
    year = index.screen(name, date_of_birth="1975", threshold=0.0)[0]
    other = index.screen(name, date_of_birth="14 Jun 1985", threshold=0.0)[0]
    assert plain.entry_id == same.entry_id == other.entry_id == "OFAC-26235"
    assert same.score > year.score > plain.score > other.score
    assert "date of birth matches" in same.reasons
    assert any("date of birth differs" in r for r in other.reasons)


def test_nationality_and_document(index: ScreeningIndex) -> None:
    base = index.screen("Ahmad Mahmood Hassan", threshold=0.0)
    hit = next(m for m in base if m.entry_id == "UN-6908994")
    wrong = next(
        m
        for m in index.screen("Ahmad Mahmood Hassan", nationality="FR", threshold=0.0)
        if m.entry_id == hit.entry_id
    )
    right = next(
        m
        for m in index.screen("Ahmad Mahmood Hassan", nationality="Tanzania", threshold=0.0)
        if m.entry_id == hit.entry_id
    )
    doc = index.screen("Ahmad Mahmood Hassan", document="ab 850901", threshold=0.0)[0]
    assert wrong.score < hit.score <= right.score
    assert any("nationality differs" in r for r in wrong.reasons)
    assert doc.entry_id == "UN-6908994" and any("AB850901" in r for r in doc.reasons)


def test_every_match_explains_itself(index: ScreeningIndex) -> None:
    for name in ("Eric Badege", "Banco Nacional de Cuba", "Usama bin Ladin", "Kim Jong Un"):
        for m in index.screen(name, limit=10, threshold=0.5):
            assert 0.0 <= m.score <= 1.0
            assert m.reasons and m.reasons[0].startswith("name ")
            assert m.alias


def test_kind_filter_and_threshold(index: ScreeningIndex) -> None:
    hits = index.screen("BANCO NACIONAL DE CUBA", kind="organisation")
    assert hits[0].entry_id == "OFAC-306"
    assert all(h.entry.kind == "organisation" for h in hits)
    assert index.screen("BANCO NACIONAL DE CUBA", kind="vessel") == []
    assert index.screen("Zzyzx Qwerty") == []


def test_index_size(index: ScreeningIndex, un_entries, ofac_entries) -> None:
    expected = sum(len(e.all_names()) for e in un_entries + ofac_entries)
    assert len(index) == expected


def test_f1_on_labelled_pairs_above_floor(data_dir: Path) -> None:
    kinds = {"Person": "person", "Vessel": "vessel"}
    with (data_dir / "name_pairs_nomenklatura.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    tp = fp = fn = 0
    for r in rows:
        predicted = (
            name_similarity(r["name1"], r["name2"], kinds.get(r["schema"], "organisation"))
            >= DEFAULT_THRESHOLD
        )
        actual = r["is_match"] == "true"
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= F1_FLOOR, f"F1 {f1:.3f} fell below the measured floor {F1_FLOOR}"
