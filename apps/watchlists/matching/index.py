"""The screening index: every alias of a set of entries, blocked for fast candidate search.

Inverted lists on exact tokens, phonetic keys, skeletons, letters swapped, and character trigrams of
the token vocabulary for typos, held in numpy arrays; candidates are ranked by IDF-weighted overlap,
the best sixty are scored in full (:mod:`.scoring`). A name is screened under each of its spellings
(as written, other romanisations of Arabic, Persian and Chinese names, parts run together or split);
the best name score per entry then meets the other evidence in one combined score
(:mod:`apps.watchlists.evidence`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from apps.watchlists import evidence, scripts
from apps.watchlists.evidence import REVIEW_THRESHOLD, Part
from apps.watchlists.importers.entries import BirthDate, WatchlistEntry
from apps.watchlists.matching.names import Token, _make_token, tokenize
from apps.watchlists.matching.postings import POSTINGS_CACHE, AliasPostings
from apps.watchlists.matching.query import Evidence, Match, _doc_key, merge_spellings
from apps.watchlists.matching.scoring import joined_forms, score_tokens, short_name, single_name

#: Candidates the name as written scores in full: the best by shared, IDF-weighted parts.
CANDIDATES = 60
#: Similarity to a listed word above which a part counts as listed nearly as written (a letter or two
#: off), and is not cut in two on a guess.
NEAR_SIM = 0.8
#: Spellings of one name screened at most (as written, romanisations, joined or split parts), and the
#: candidates each further spelling scores (the name as written scores ``CANDIDATES``).
MAX_SPELLINGS = 8
SPELLING_CANDIDATES = 20


class ScreeningIndex(AliasPostings):
    """In-memory blocking index over every alias of a set of watchlist entries.

    Build once (``ScreeningIndex.build(entries)``), screen many names. Candidate generation uses
    inverted lists held as numpy arrays (CSR layout: one offsets array, one ids array) on exact
    tokens, phonetic keys and consonant skeletons, plus a character-trigram index over the token
    *vocabulary* for typos; candidates are ranked by IDF-weighted overlap and only the top
    ``CANDIDATES`` (sixty) are scored in full.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cuts: dict[str, list[tuple[Token, Token]]] = {}

    def spellings(self, name: str, organisation: bool = False) -> list[tuple[Token, ...]]:
        """The token sequences a name is screened as: as written first, then other spellings of it.

        Other spellings (people only): the further romanisations of an Arabic, Persian or Chinese
        name (:func:`apps.watchlists.scripts.romanisations`), and the name with two parts run
        together or one part split where the list's vocabulary writes it so ("Abdulrahman" /
        "Abdul Rahman", "Xiaoming" / "Xiao Ming").
        """
        return [tokens for tokens, _key in self.keyed_spellings(name, organisation)]

    def keyed_spellings(
        self, name: str, organisation: bool = False
    ) -> list[tuple[tuple[Token, ...], tuple[tuple[str, bool], ...]]]:
        """:meth:`spellings`, each with its ``_key`` (the bulk path groups names by it: computed once)."""
        base = tokenize(name, organisation=organisation)
        if not base:
            return []
        out = [(base, _key(base))]
        if organisation:
            return out
        seen = {out[0][1]}

        def add(tokens: tuple[Token, ...]) -> None:
            if tokens and len(out) < MAX_SPELLINGS and (key := _key(tokens)) not in seen:
                seen.add(key)
                out.append((tokens, key))

        for alt in scripts.romanisations(name):
            add(tokenize(alt))
        for tokens, _k in list(out):
            for other in self._rejoined(tokens):
                add(other)
        return out

    def _rejoined(self, tokens: tuple[Token, ...]) -> list[tuple[Token, ...]]:
        """``tokens`` with two neighbours joined, or one split, where the list has the other form."""
        out = []
        real = [not (t.minor or t.initial or t.number) for t in tokens]
        for i in range(len(tokens) - 1):
            if real[i] and real[i + 1]:
                joined = tokens[i].text + tokens[i + 1].text
                if joined in self.vocab:
                    out.append((*tokens[:i], _make_token(joined, False), *tokens[i + 2 :]))
        for i, t in enumerate(tokens):
            if not real[i] or t.abjad or len(t.text) < 6 or t.text in self.vocab:
                continue  # a part the list writes as it is needs no splitting
            for parts in self._cuts_of(t):
                out.append((*tokens[:i], *parts, *tokens[i + 1 :]))
        return out

    def _cuts_of(self, t: Token) -> list[tuple[Token, Token]]:
        """The (at most two) ways :meth:`_rejoined` cuts the part ``t`` in two, kept per index: they
        depend on the part and the list's vocabulary only, and names repeat their parts."""
        found = self._cuts.get(t.text)
        if found is None:
            if len(self._cuts) >= POSTINGS_CACHE:
                self._cuts.clear()
            found = self._cuts[t.text] = self._cut(t)
        return found

    def _cut(self, t: Token) -> list[tuple[Token, Token]]:
        # Both halves listed words; or one half a listed word and the other left for the scorer to
        # compare (it may carry a typo): in a long run-together name (ten letters or more, both
        # halves of five or more), or in one of seven or more that is near no listed word at all
        # (halves of three or more: "Naimqasmi" is "naim" + "qasmi", to meet "Naim Qasim"). A part
        # the list writes nearly so ("Elisabeth", a letter or two apart: NEAR_SIM) is cut only where
        # both halves are listed words: each further spelling is screened in full, and most such
        # cuts find nothing.
        cuts = [c for c in range(3, len(t.text) - 2) if t.text[:c] in self.vocab and t.text[c:] in self.vocab]
        if not cuts and len(t.text) >= 10:
            cuts = [
                c for c in range(5, len(t.text) - 4) if t.text[:c] in self.vocab or t.text[c:] in self.vocab
            ]
        if not cuts and len(t.text) >= 7 and self.nearest(t) < NEAR_SIM:
            cuts = [
                c for c in range(3, len(t.text) - 2) if t.text[:c] in self.vocab or t.text[c:] in self.vocab
            ]

        def known(c: int, text: str = t.text) -> int:  # the longer listed half first
            return max(len(h) if h in self.vocab else 0 for h in (text[:c], text[c:]))

        return [
            (_make_token(t.text[:cut], False), _make_token(t.text[cut:], False))
            for cut in sorted(cuts, key=lambda c: -known(c))[:2]
        ]

    def screen(
        self,
        name: str,
        *,
        date_of_birth: str | date | BirthDate | None = None,
        nationality: str | None = None,
        document: str | None = None,
        kind: str | None = None,
        limit: int = 5,
        threshold: float = REVIEW_THRESHOLD,
        candidates: int = CANDIDATES,
    ) -> list[Match]:
        """Best matches for one name, at most ``limit``, each with a combined score >= ``threshold``.

        Every spelling of the name (:meth:`spellings`) finds and scores its candidates; the best name
        score per alias then meets the other evidence (date of birth, nationality, document, the
        alias's own quality) in one combined score (:mod:`apps.watchlists.evidence`). ``kind``
        restricts hits to entries of that kind ("person", "organisation", "vessel"...).
        """
        org = kind is not None and kind != "person"
        spelled = self.spellings(name, org)
        if not spelled:
            return []
        q = spelled[0]
        q_person = tokenize(name) if org else q
        q_org = q if org else tokenize(name, organisation=True)
        found = Evidence.of(date_of_birth, nationality, document)
        floor = found.floor(threshold)

        joined: dict[int, tuple[str, str]] = {}  # per query form (alive for the whole call)

        def scored(k: int, spelling: tuple[Token, ...]) -> Iterator[tuple[int, float]]:
            for a_idx in self._candidates(spelling, SPELLING_CANDIDATES if k else candidates).tolist():
                if kind is not None and self.entries[int(self.alias_entry[a_idx])].kind != kind:
                    continue  # before scoring: the scorer is the expensive part
                is_org = bool(self.alias_org[a_idx])
                if is_org and k:
                    continue  # other spellings are spellings of a person's name
                qt = q_org if is_org else (spelling if k else q_person)
                qj = joined.get(id(qt))
                if qj is None:
                    qj = joined[id(qt)] = joined_forms(qt)
                yield (
                    a_idx,
                    score_tokens(qt, self.alias_tokens(a_idx), not is_org, qj, self.alias_joined(a_idx)),
                )

        merged = merge_spellings([list(scored(k, sp)) for k, sp in enumerate(spelled)], floor)
        return self.rank(merged, found, kind, limit, threshold, q)

    def rank(
        self,
        scored: Iterable[tuple[int, float]],
        found: Evidence,
        kind: str | None,
        limit: int,
        threshold: float,
        query: Sequence[Token] = (),
    ) -> list[Match]:
        """The best match per entry among ``(alias index, name score)`` pairs, after the other evidence
        (date of birth, nationality, document, quality) made each a combined score; shared by the bulk path."""
        floor = found.floor(threshold)
        query_single = single_name(query) if query else False
        query_short = short_name(query) if query else False
        best: dict[int, Match] = {}
        for a_idx, name_score in scored:
            e_idx = int(self.alias_entry[a_idx])
            entry = self.entries[e_idx]
            if (kind is not None and entry.kind != kind) or name_score < floor:
                continue
            weak = bool(self.alias_weak[a_idx])
            person = not self.alias_org[a_idx]
            alias = self.alias_names[a_idx]
            alias_tokens = self.alias_tokens(a_idx)
            parts = [evidence.name_part(name_score, alias, weak=weak)]
            parts += evidence.quality_parts(
                weak=weak,
                single=person and (query_single or single_name(alias_tokens)),
                short=person and (query_short or short_name(alias_tokens)),
            )
            parts += self._secondary(entry, found)
            score = evidence.combine(parts)
            current = best.get(e_idx)
            if current is None or score > current.score:
                best[e_idx] = Match(
                    entry.external_id,
                    entry,
                    alias,
                    round(score, 4),
                    name_score,
                    [p.text for p in parts],
                    parts,
                )
        hits = [m for m in best.values() if m.score >= threshold]
        hits.sort(key=lambda m: (-m.score, m.entry_id))
        return hits[:limit]

    @staticmethod
    def _secondary(entry: WatchlistEntry, found: Evidence) -> list[Part]:
        """Date of birth, nationality and document evidence of one entry against the query's."""
        parts = []
        if (dob := evidence.dob_part(found.dob, entry.dates_of_birth)) is not None:
            parts.append(dob)
        if (nat := evidence.nationality_part(found.nationality, entry.nationalities)) is not None:
            parts.append(nat)
        if found.document:
            doc = next(
                ((d.doc_type, d.number) for d in entry.documents if _doc_key(d.number) == found.document),
                None,
            )
            if (part := evidence.document_part(doc)) is not None:
                parts.append(part)
        return parts


def _key(tokens: Sequence[Token]) -> tuple[tuple[str, bool], ...]:
    return tuple([(t.text, t.abjad) for t in tokens])
