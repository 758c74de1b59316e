"""What the header search finds among subjects: travellers, consignments, conveyances and traders.

Every look-up is indexed, so a search stays fast over millions of subjects:

- names: a prefix of the title (a traveller's title starts with the surname), through the partial index
  on ``upper(title)`` for travellers, traders and conveyances (migration ``0007``; on PostgreSQL it uses
  ``text_pattern_ops``, so ``LIKE 'SMITH%'`` is an index range whatever the collation);
- documents, containers and MRNs: their keyed hashes in ``SubjectKey`` (a document's hash includes its
  issuing country, so a number typed alone is tried with every country code: a few hundred equality
  probes of one index, still far cheaper than any scan);
- declaration and waybill references, IMO numbers, flights, vehicle registrations, trader ids: the
  subject's ``external_id``, exactly, within the viewer's sources (the identity index starts with the
  source).

Every match starts from ``Subject.objects.visible_to(user)``; matches on what masking hides (names,
documents) exclude the travellers shown masked to the viewer (``masked_subjects_q``) before anything is
counted or limited, so a masked person is neither listed nor betrayed by a count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode

from apps.compliance.masking import masked_subjects_q
from apps.core.search import Found, Result, SearchKind, SearchQuery, register
from apps.intake.models import DataSource, Subject, SubjectKey, SubjectKind
from apps.intake.normalise import fold, key_hash

__all__ = ["Match", "carried_subject_ids", "subject_matches"]

#: ISO 3166-1 alpha-3, the issuing-state codes of travel documents (with ICAO's own codes at the end).
_COUNTRY_CODES = (
    "AFG ALA ALB DZA ASM AND AGO AIA ATA ATG ARG ARM ABW AUS AUT AZE BHS BHR BGD BRB BLR BEL BLZ BEN BMU BTN "
    "BOL BES BIH BWA BVT BRA IOT BRN BGR BFA BDI CPV KHM CMR CAN CYM CAF TCD CHL CHN CXR CCK COL COM COG COD "
    "COK CRI CIV HRV CUB CUW CYP CZE DNK DJI DMA DOM ECU EGY SLV GNQ ERI EST SWZ ETH FLK FRO FJI FIN FRA GUF "
    "PYF ATF GAB GMB GEO DEU GHA GIB GRC GRL GRD GLP GUM GTM GGY GIN GNB GUY HTI HMD VAT HND HKG HUN ISL IND "
    "IDN IRN IRQ IRL IMN ISR ITA JAM JPN JEY JOR KAZ KEN KIR PRK KOR KWT KGZ LAO LVA LBN LSO LBR LBY LIE LTU "
    "LUX MAC MDG MWI MYS MDV MLI MLT MHL MTQ MRT MUS MYT MEX FSM MDA MCO MNG MNE MSR MAR MOZ MMR NAM NRU NPL "
    "NLD NCL NZL NIC NER NGA NIU NFK MKD MNP NOR OMN PAK PLW PSE PAN PNG PRY PER PHL PCN POL PRT PRI QAT REU "
    "ROU RUS RWA BLM SHN KNA LCA MAF SPM VCT WSM SMR STP SAU SEN SRB SYC SLE SGP SXM SVK SVN SLB SOM ZAF SGS "
    "SSD ESP LKA SDN SUR SJM SWE CHE SYR TWN TJK TZA THA TLS TGO TKL TON TTO TUN TUR TKM TCA TUV UGA UKR ARE "
    "GBR USA UMI URY UZB VUT VEN VNM VGB VIR WLF ESH YEM ZMB ZWE "
    # ICAO Doc 9303: Germany's "D", British nationals of other kinds, UN and refugee documents, Kosovo.
    "D GBD GBN GBO GBP GBS UNO UNA UNK XXA XXB XXC XXX XOM XPO XBA XIM XCC XCO XEC XES EUE RKS"
)
COUNTRIES = tuple(_COUNTRY_CODES.split())

#: How far back and ahead a flight number is looked for (one conveyance subject per flight and day).
FLIGHT_DAYS_BACK = 30
FLIGHT_DAYS_AHEAD = 7

_TRAVEL_LINKS = ("carried_by", "travels_on")
_IMO = re.compile(r"^(?:IMO)?(\d{7})$")
_FLIGHT = re.compile(r"^[A-Z0-9]{2}[A-Z]?\d{1,4}[A-Z]?$")


@dataclass(frozen=True)
class Match:
    """Subjects a query matched by one field: ``queryset`` is unevaluated (and unordered), so a caller can
    use it as a subquery (the targets on these subjects) or slice it."""

    kind: str
    how: str
    queryset: QuerySet
    #: Matched on what masking hides: only a viewer who reads it may match on it (the tablet does not
    #: read documents).
    personal: bool = False
    #: Conveyances: what they carried is found through their links.
    carries: bool = False


def _visible(user: Any) -> QuerySet:
    return Subject.objects.visible_to(user).filter(status=Subject.Status.CURRENT).order_by()


def _source_ids(user: Any, query: SearchQuery) -> list[int]:
    """The viewer's sources (owned or granted): exact identity look-ups name them, so that the identity
    index, which starts with the source, is used."""
    key = ("intake.sources", getattr(user, "pk", None))
    if key not in query.memo:
        query.memo[key] = list(DataSource.objects.visible_to(user).values_list("pk", flat=True))
    return query.memo[key]


def _by_identity(user: Any, query: SearchQuery, kind: str, external_ids: set[str]) -> QuerySet:
    return _visible(user).filter(
        kind=kind, source_id__in=_source_ids(user, query), external_id__in=external_ids
    )


def _by_keys(user: Any, kind: str, keys: list[str]) -> QuerySet:
    return _visible(user).filter(
        kind=kind, pk__in=SubjectKey.objects.filter(key__in=keys).values("subject_id")
    )


def _by_prefix(user: Any, kind: str, prefixes: set[str]) -> QuerySet:
    return (
        _visible(user)
        .filter(kind=kind)
        .filter(reduce(or_, (Q(title__istartswith=p) for p in sorted(prefixes))))
    )


def name_prefixes(query: SearchQuery) -> set[str]:
    """Title prefixes for a name as people type it: "smith", "smith, john", "john smith", "smith john"
    (a traveller's title is "SMITH, John …")."""
    words = query.words
    prefixes = {query.upper}
    if len(words) >= 2:
        prefixes.add(f"{words[-1]}, {' '.join(words[:-1])}")
        prefixes.add(f"{words[0]}, {' '.join(words[1:])}")
    return prefixes


def _document_keys(query: SearchQuery) -> list[str]:
    """The keyed hashes a typed document number may be stored under: with the issuing country typed
    beside it ("X1234567 GBR", "GBR X1234567"), else with every country code."""
    pairs: set[tuple[str, str]] = set()
    words = query.words
    if len(words) >= 2:
        for country, rest in ((words[-1], words[:-1]), (words[0], words[1:])):
            number = fold(" ".join(rest)).replace(" ", "")
            if (
                country.isalpha()
                and len(country) <= 3
                and 5 <= len(number) <= 20
                and any(c.isdigit() for c in number)
            ):
                pairs.add((number, country))
    number = query.compact
    if 5 <= len(number) <= 20 and query.has_digits:
        pairs.update((number, country) for country in (*COUNTRIES, ""))
    return sorted(key_hash("doc", f"{number}|{country}") for number, country in pairs)


def _flight_ids(number: str) -> set[str]:
    today = timezone.now().date()
    days = (today + timedelta(days=d) for d in range(-FLIGHT_DAYS_BACK, FLIGHT_DAYS_AHEAD + 1))
    return {f"flight:{number}:{day.isoformat()}" for day in days}


def subject_matches(user: Any, query: SearchQuery) -> list[Match]:
    """Every way the query matches subjects the user may see, one ``Match`` per field (memoised per
    query: the subject groups and the target group ask the same)."""
    memo_key = ("intake.matches", getattr(user, "pk", None))
    if memo_key in query.memo:
        return query.memo[memo_key]
    masked = masked_subjects_q(user)
    matches: list[Match] = []
    text, upper, compact = query.text, query.upper, query.compact

    if query.has_letters:
        # One query per spelling: PostgreSQL answers one prefix with an index range, but may judge an OR
        # of several (with a LIMIT) cheaper as a scan of the whole table.
        for prefix in sorted(name_prefixes(query)):
            names = _by_prefix(user, SubjectKind.TRAVELLER, {prefix}).exclude(masked)
            matches.append(Match(SubjectKind.TRAVELLER, "name", names, personal=True))
    if keys := _document_keys(query):
        documents = _by_keys(user, SubjectKind.TRAVELLER, keys).exclude(masked)
        matches.append(Match(SubjectKind.TRAVELLER, "document", documents, personal=True))

    if query.has_digits:
        references = {f"{prefix}:{ref}" for prefix in ("declaration", "waybill") for ref in {text, upper}}
        matches.append(
            Match(
                SubjectKind.CONSIGNMENT,
                "reference",
                _by_identity(user, query, SubjectKind.CONSIGNMENT, references),
            )
        )
        keys = [key_hash("container", compact), key_hash("mrn", text), key_hash("mrn", upper)]
        matches.append(
            Match(SubjectKind.CONSIGNMENT, "container", _by_keys(user, SubjectKind.CONSIGNMENT, keys))
        )

    conveyances: dict[str, set[str]] = {}
    if imo := _IMO.match(compact):
        conveyances["IMO number"] = {f"imo:{imo.group(1)}"}
    if _FLIGHT.match(compact) and query.has_letters and query.has_digits:
        conveyances["flight number"] = _flight_ids(compact)
    if 2 <= len(compact) <= 12:
        conveyances["registration"] = {f"vehicle:{compact}", f"vehicle:{upper}"}
    for how, external_ids in conveyances.items():
        found = _by_identity(user, query, SubjectKind.CONVEYANCE, external_ids)
        matches.append(Match(SubjectKind.CONVEYANCE, how, found, carries=True))
    if query.has_letters:
        vessel = upper.removeprefix("VESSEL ").strip()
        if len(vessel) >= 2:
            vessels = _by_prefix(user, SubjectKind.CONVEYANCE, {f"VESSEL {vessel}"})
            matches.append(Match(SubjectKind.CONVEYANCE, "vessel name", vessels, carries=True))

    traders = {f"trader:{text}", f"trader:{upper}", f"trader:{compact}"}
    matches.append(
        Match(SubjectKind.TRADER, "trader id", _by_identity(user, query, SubjectKind.TRADER, traders))
    )
    if query.has_letters and len(upper) >= 3:
        matches.append(Match(SubjectKind.TRADER, "name", _by_prefix(user, SubjectKind.TRADER, {upper})))

    query.memo[memo_key] = matches
    return matches


def carried_subject_ids(user: Any, conveyance_ids: list[int], cap: int) -> list[int]:
    """The visible subjects carried by (consignments) or travelling on (travellers) these conveyances, the
    latest ``cap`` of them (a vessel carries thousands over the years)."""
    from apps.intake.models import SubjectLink

    if not conveyance_ids:
        return []
    links = (
        SubjectLink.objects.filter(to_subject_id__in=conveyance_ids, kind__in=_TRAVEL_LINKS)
        .order_by("-from_subject_id")
        .values_list("from_subject_id", flat=True)[:cap]
    )
    return list(_visible(user).filter(pk__in=list(links)).values_list("pk", flat=True))


# --- the subject groups ---------------------------------------------------------------------------------


def _detail(subject: Subject) -> str:
    parts = [subject.source.name]
    if subject.port is not None:  # no query when port_id is None
        parts.append(subject.port.locode)
    if subject.arrival_at:
        parts.append(f"arrives {date_format(timezone.localtime(subject.arrival_at), 'j M Y H:i')}")
    return " · ".join(parts)


def _finder(kind: str):
    def find(user: Any, query: SearchQuery, limit: int) -> Found:
        found: dict[int, tuple[Subject, str]] = {}
        more = False
        for match in subject_matches(user, query):
            if match.kind != kind:
                continue
            rows = list(match.queryset.select_related("source", "port")[: limit + 1])
            more = more or len(rows) > limit
            for subject in rows:
                found.setdefault(subject.pk, (subject, match.how))
        ordered = sorted(found.values(), key=lambda pair: (pair[0].title.upper(), pair[0].pk))
        more = more or len(ordered) > limit
        results = [
            Result(label=subject.title, url=reverse("intake:subject", args=[subject.pk]),
                   detail=_detail(subject), badge=f"by {how}")
            for subject, how in ordered[:limit]
        ]  # fmt: skip
        more_url = (
            f"{reverse('intake:subjects')}?{urlencode({'q': query.text, 'kind': kind})}" if more else ""
        )
        return Found(results, more=more, more_url=more_url)

    return find


register(SearchKind("travellers", "Travellers", "subject.view", _finder(SubjectKind.TRAVELLER), order=20,
                    hint="a traveller's name (SMITH, John) or travel document number"))  # fmt: skip
register(SearchKind("consignments", "Consignments", "subject.view", _finder(SubjectKind.CONSIGNMENT), order=30,
                    hint="a declaration or waybill reference, an MRN or a container number"))  # fmt: skip
register(SearchKind("conveyances", "Vessels, flights and vehicles", "subject.view",
                    _finder(SubjectKind.CONVEYANCE), order=40,
                    hint="a vessel's name or IMO number, a flight number (BA117), a vehicle registration"))  # fmt: skip
register(SearchKind("traders", "Traders", "subject.view", _finder(SubjectKind.TRADER), order=50,
                    hint="a trader's EORI or name"))  # fmt: skip
