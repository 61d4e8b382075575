"""Likely duplicates: the same service entered twice, found by fuzzy name and organisation.

How a pair is judged:

1. Each name is split into a *base*, a *place* and a *venue*. The place is a trailing "(...)",
   a "- <place>" ending made only of place words, or trailing ward, locality or compass words
   ("North", "Central hub"); the venue is an " at <venue>" ending. Filler words ("group",
   "session", "the", "and") are dropped from the base and generic words ("hub", "hall") from
   the place and venue. "Baby massage group (North hub)" -> base "baby massage", place "north".
2. Two services whose names both say where, and name different places, are separate local
   services ("Stay and Play (North)" / "Stay and Play (South)", "Toddler group at St Bride's
   church hall" / "... at Moorgate tenants' hall") and are never paired. Places are the same
   when one's words are all in the other's ("North" / "North hub") or they differ by a typo.
3. Otherwise the bases are compared with rapidfuzz (the mean of token-sort and token-set
   ratios, so word order and an extra word cost a little, not everything) and so are the
   organisations (`org_similarity`: word order and typos forgiven, and "Kestlemouth Council"
   matches "Kestlemouth Council Family Hubs"). A pair needs a name score of at least 85 and,
   when both give an organisation, an organisation score of at least 88; with an organisation
   missing the name must score 95.

Speed: candidates come from blocks (services sharing a base-name word, or the same
organisation). A block of up to `BLOCK_CAP` services is compared in full; a bigger one is
sorted by base name and each service compared with its `WINDOW` neighbours only (the
sorted-neighbourhood method), so 20,000 services never cost 20,000^2 comparisons.

Decisions: "keep both" is remembered in `duplicate_decisions`, keyed by the two services'
normalised name and organisation, so the pair stops being flagged (and stays unflagged after a
re-import of the same returns). "Merge" is an undoable change in `hubdash.history`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import pandas as pd
from rapidfuzz import fuzz

from hubdash import schema
from hubdash.errors import HubdashError
from hubdash.history import begin_change, snapshot
from hubdash.services import records_by_id
from hubdash.schema import normalise
from hubdash.services import delete_services, insert_services, labelled
from hubdash.store import Store

NAME_MIN = 85
ORG_MIN = 88
NAME_MIN_NO_ORG = 95
#: Organisation score assumed when one side gave none (ranks such pairs below same-org pairs).
ORG_UNKNOWN = 60
BLOCK_CAP = 150
WINDOW = 12

#: Words that add nothing to what a service is.
FILLER = frozenset({"group", "groups", "session", "sessions", "class", "classes", "club", "the", "a", "an",
                    "and", "of", "for", "with", "service", "services"})
#: Words that name a place when they end a name ("Stay and Play North").
COMPASS = frozenset({"north", "south", "east", "west", "central", "northern", "southern", "eastern", "western",
                     "northeast", "northwest", "southeast", "southwest", "mid", "upper", "lower", "inner", "outer"})
#: Place words that do not tell two places apart ("North hub" is the same place as "North").
GENERIC_PLACE = frozenset({"hub", "hubs", "family", "families", "centre", "center", "ward", "area", "locality",
                           "site", "venue", "branch", "office", "hall", "halls", "room", "rooms", "building",
                           "the", "and", "of"})
#: Two place names this alike (0-100, character ratio) are the same place spelt differently.
SAME_PLACE_MIN = 90

PAIR_COLUMNS = ["a_id", "b_id", "a_name", "b_name", "a_org", "b_org", "name_score", "org_score", "score",
                "reason", "a_key", "b_key"]

_WORD = re.compile(r"[a-z0-9]+")


def words(text: object) -> list[str]:
    """Lower-case ASCII words, apostrophes dropped: "St Bride's" -> ["st", "brides"]."""
    import unicodedata

    s = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode("ascii").lower()
    return _WORD.findall(s.replace("'", ""))


def pair_key(name: object, organisation: object) -> str:
    """The identity a "keep both" decision is remembered by: normalised name and organisation."""
    return f"{normalise(name)}|{normalise(organisation)}"


def place_phrases(store: Store | None = None) -> frozenset[tuple[str, ...]]:
    """Word sequences that name a place: compass words plus the store's ward names and localities."""
    phrases = {(w,) for w in COMPASS} | {("hub",), ("centre",), ("central", "hub")}
    if store is not None:
        for name, loc in store.rows("SELECT ward_name, locality FROM wards"):
            for p in (name, loc):
                if p and words(p):
                    phrases.add(tuple(words(p)))
    return frozenset(phrases)


@dataclass(frozen=True)
class NameParts:
    """A service name taken apart: what it is (`base`), and where (`place`, `venue`)."""

    base: str
    place: str = ""
    venue: str = ""

    @property
    def location(self) -> str:
        """Place and venue words together, sorted: what the name says about where."""
        return " ".join(sorted(set(self.place.split()) | set(self.venue.split())))


def split_name(name: object, *, places: frozenset[tuple[str, ...]] | None = None) -> NameParts:
    """Split a service name into base, place and venue (generic words dropped, words sorted).

    E.g. "Baby massage group (North hub)" -> base "baby massage", place "north"; "Toddler group
    at Hollins community room" -> base "toddler", venue "community hollins".
    """
    places = places if places is not None else place_phrases()
    s = str(name or "")
    place: list[str] = []
    venue: list[str] = []
    while m := re.search(r"[(\[]([^()\[\]]*)[)\]]\s*$", s):
        place += words(m.group(1))
        s = s[:m.start()]
    if m := re.search(r"\s(?:at|@)\s+(.+)$", s, flags=re.IGNORECASE):
        venue += words(m.group(1))
        s = s[:m.start()]
    if (m := re.search(r"\s[-\u2013\u2014,]\s*([^-\u2013\u2014,]+)$", s)) and _all_place(words(m.group(1)), places):
        place += words(m.group(1))
        s = s[:m.start()]
    toks = words(s)
    changed = True
    while changed and len(toks) > 1:
        changed = False
        for n in (3, 2, 1):
            if len(toks) > n and tuple(toks[-n:]) in places:
                place += toks[-n:]
                toks = toks[:-n]
                changed = True
                break
    base = [t for t in toks if t not in FILLER] or toks

    def clean(ws: list[str]) -> str:
        return " ".join(sorted({w for w in ws if w not in GENERIC_PLACE}))

    return NameParts(" ".join(base), clean(place), clean(venue))


def same_place(a: str, b: str) -> bool:
    """Whether two place or venue descriptions (generic words dropped) name the same place.

    The same when one's words are all in the other ("St Brides" / "St Brides church") or they
    differ only by a typo; "Town North" and "Town Park" are different places.
    """
    wa, wb = set(a.split()), set(b.split())
    return wa <= wb or wb <= wa or fuzz.ratio(a, b) >= SAME_PLACE_MIN


def different_places(a: NameParts, b: NameParts) -> bool:
    """True when both names say where (a place or a venue) and they do not name the same place."""
    la, lb = a.location, b.location
    return bool(la and lb and not same_place(la, lb))


def _all_place(toks: list[str], places: frozenset[tuple[str, ...]]) -> bool:
    if not toks:
        return False
    i = 0
    while i < len(toks):
        for n in (3, 2, 1):
            if tuple(toks[i:i + n]) in places or (n == 1 and toks[i] in GENERIC_PLACE):
                i += n
                break
        else:
            return False
    return True


def _similar(a: str, b: str) -> float:
    """Mean of token-sort and token-set ratios (0-100): order-free, tolerant of an extra word."""
    if not a or not b:
        return 0.0
    return (fuzz.token_sort_ratio(a, b) + fuzz.token_set_ratio(a, b)) / 2


def org_similarity(a: str, b: str) -> float:
    """How alike two organisation names are (0-100).

    Word order and small typos are forgiven (token-sort ratio); a name whose words all appear in
    the other ("Kestlemouth Council" / "Kestlemouth Council Family Hubs") counts as the same
    organisation, but one shared place word does not ("Kestlemouth Libraries" is not
    "Kestlemouth Council"), and names with different numbers are different ("Branch 2").
    """
    wa, wb = set(words(a)), set(words(b))
    na, nb = {w for w in wa if any(c.isdigit() for c in w)}, {w for w in wb if any(c.isdigit() for c in w)}
    if na != nb:
        return 0.0  # "District 45" is not "District 47", however alike the rest
    if wa and wb and (wa == wb or (min(len(wa), len(wb)) >= 2 and (wa <= wb or wb <= wa))):
        return 100.0
    return float(fuzz.token_sort_ratio(" ".join(sorted(wa)), " ".join(sorted(wb))))


def _candidates(bases: list[str], orgs: list[str]) -> set[tuple[int, int]]:
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (b, o) in enumerate(zip(bases, orgs, strict=True)):
        for t in set(b.split()):
            blocks[("w", t)].append(i)
        if o:
            blocks[("o", o)].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) <= BLOCK_CAP:
            pairs.update(combinations(members, 2))
            continue
        ordered = sorted(members, key=lambda i: (bases[i], orgs[i]))
        for k, i in enumerate(ordered):
            for j in ordered[k + 1:k + 1 + WINDOW]:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def find_duplicates(frame: pd.DataFrame, *, kept: set[tuple[str, str]] | frozenset = frozenset(),
                    places: frozenset[tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Likely duplicate pairs in `frame`, best first.

    Args:
        frame: Services (at least service_id, name, organisation).
        kept: Pairs of `pair_key`s the user chose to keep both of (either order).
        places: Place phrases from `place_phrases(store)`.

    Returns:
        One row per pair: a_id < b_id, names, organisations, name_score, org_score, score (0-100),
        a plain reason, and the two pair keys.
    """
    if len(frame) < 2:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    places = places if places is not None else place_phrases()
    ids = frame["service_id"].astype(int).tolist()
    names = frame["name"].fillna("").astype(str).tolist()
    raw_orgs = [o if isinstance(o, str) and o.strip() else "" for o in frame["organisation"]]
    split = [split_name(n, places=places) for n in names]
    bases = [p.base for p in split]
    orgs = [" ".join(sorted(words(o))) for o in raw_orgs]
    rows = []
    org_memo: dict[tuple[str, str], float] = {}
    name_memo: dict[tuple[str, str], float] = {}
    place_memo: dict[tuple[str, str], bool] = {}
    locs = [p.location for p in split]
    for i, j in _candidates(bases, orgs):
        key = (bases[i], bases[j]) if bases[i] <= bases[j] else (bases[j], bases[i])
        if (name_score := name_memo.get(key)) is None:  # names repeat across localities: score once
            name_score = name_memo[key] = _similar(*key)
        if name_score < NAME_MIN:
            continue
        if locs[i] and locs[j] and locs[i] != locs[j]:
            lkey = (locs[i], locs[j]) if locs[i] <= locs[j] else (locs[j], locs[i])
            if (same := place_memo.get(lkey)) is None:
                same = place_memo[lkey] = same_place(*lkey)
            if not same:
                continue  # separate local services of the same kind (see `different_places`)
        if orgs[i] and orgs[j]:
            okey = (orgs[i], orgs[j]) if orgs[i] <= orgs[j] else (orgs[j], orgs[i])
            if (org_score := org_memo.get(okey)) is None:  # organisations repeat: score each pair once
                org_score = org_memo[okey] = org_similarity(*okey)
            if org_score < ORG_MIN:
                continue
        else:
            if name_score < NAME_MIN_NO_ORG:
                continue
            org_score = None
        a, b = (i, j) if ids[i] < ids[j] else (j, i)
        ka, kb = pair_key(names[a], raw_orgs[a]), pair_key(names[b], raw_orgs[b])
        if (ka, kb) in kept or (kb, ka) in kept:
            continue
        score = 0.75 * name_score + 0.25 * (org_score if org_score is not None else ORG_UNKNOWN)
        rows.append({
            "a_id": ids[a], "b_id": ids[b], "a_name": names[a], "b_name": names[b],
            "a_org": raw_orgs[a] or None, "b_org": raw_orgs[b] or None,
            "name_score": round(name_score), "org_score": None if org_score is None else round(org_score),
            "score": round(score), "reason": _reason(name_score, org_score, names[a], names[b]),
            "a_key": ka, "b_key": kb,
        })
    df = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    return df.sort_values(["score", "a_id", "b_id"], ascending=[False, True, True]).reset_index(drop=True)


def _reason(name_score: float, org_score: float | None, na: str, nb: str) -> str:
    if normalise(na) == normalise(nb):
        first = "Same name"
    elif name_score >= 99.5:
        first = "Same name once words like 'group' and place names are set aside"
    else:
        first = f"Names {name_score:.0f}% alike"
    if org_score is None:
        second = "one gives no organisation"
    elif org_score >= 99.5:
        second = "same organisation"
    else:
        second = f"organisations {org_score:.0f}% alike"
    return f"{first}; {second}"


# --- decisions ------------------------------------------------------------------------------


def kept_pairs(store: Store) -> pd.DataFrame:
    """Pairs the user chose to keep both of (newest first)."""
    return store.read("""SELECT key_a, key_b, name_a, name_b, service_a, service_b, decided_at
                         FROM duplicate_decisions WHERE decision = 'keep_both' ORDER BY decided_at DESC""")


def kept_keys(store: Store) -> frozenset[tuple[str, str]]:
    return frozenset((a, b) for a, b in store.rows(
        "SELECT key_a, key_b FROM duplicate_decisions WHERE decision = 'keep_both'"))


def find_duplicates_for(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """`find_duplicates` with the store's place names and remembered "keep both" decisions."""
    return find_duplicates(frame, kept=kept_keys(store), places=place_phrases(store))


def _names(cur, ids: list[int]) -> dict[int, tuple[str, str | None]]:  # noqa: ANN001
    rows = cur.execute("SELECT service_id, name, organisation FROM services WHERE service_id IN "
                       "(SELECT unnest(?::INTEGER[]))", [ids]).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def keep_both(store: Store, a_id: int, b_id: int) -> None:
    """Remember that services `a_id` and `b_id` are different, so the pair is no longer flagged."""
    with store.write() as cur:
        found = _names(cur, [int(a_id), int(b_id)])
        missing = [i for i in (int(a_id), int(b_id)) if i not in found]
        if missing:
            raise HubdashError(f"There is no service number {missing[0]} any more; refresh the page.",
                               title="Service not found")
        ka, kb = pair_key(*found[int(a_id)]), pair_key(*found[int(b_id)])
        (ka, a_id, na), (kb, b_id, nb) = sorted([(ka, int(a_id), found[int(a_id)][0]),
                                                 (kb, int(b_id), found[int(b_id)][0])])
        cur.execute("DELETE FROM duplicate_decisions WHERE key_a = ? AND key_b = ?", [ka, kb])
        cur.execute("INSERT INTO duplicate_decisions (key_a, key_b, decision, service_a, service_b, name_a, name_b) "
                    "VALUES (?, ?, 'keep_both', ?, ?, ?, ?)", [ka, kb, a_id, b_id, na, nb])


def forget_decision(store: Store, key_a: str, key_b: str) -> None:
    """Flag a kept pair again (undo "keep both")."""
    with store.write() as cur:
        cur.execute("DELETE FROM duplicate_decisions WHERE (key_a = ? AND key_b = ?) OR (key_a = ? AND key_b = ?)",
                    [key_a, key_b, key_b, key_a])


# --- side by side and merge ------------------------------------------------------------------


def _fullness(v: object) -> float:
    """How much an answer says: blank 0, a placeholder 0.5, else its length (or 1 for a number)."""
    from hubdash.quality import _is_blank, placeholder_kind

    if _is_blank(v):
        return 0.0
    if isinstance(v, str):
        return 0.5 if placeholder_kind(v) == "placeholder" else float(len(v.strip()))
    if isinstance(v, (list, tuple)):
        return float(len(v))
    return 1.0


def default_choices(keep: Mapping, other: Mapping) -> dict[str, str]:
    """Per question code, "keep" or "other": the fuller answer, the kept record's on a tie."""
    return {q.code: "other" if _fullness(other.get(q.code)) > _fullness(keep.get(q.code)) else "keep"
            for q in schema.QUESTIONS}


def side_by_side(frame: pd.DataFrame, a_id: int, b_id: int, *, personal: bool = False) -> pd.DataFrame:
    """The two services' answers question by question, with whether they agree and which answer
    a merge into A keeps by default. Personal answers are left out unless `personal=True`."""
    two = frame[frame["service_id"].isin([a_id, b_id])].set_index("service_id").loc[[a_id, b_id]].reset_index()
    lab = labelled(two, personal=personal).set_index("service_id")
    recs = {int(r["service_id"]): r for r in two.to_dict("records")}
    choice = default_choices(recs[a_id], recs[b_id])
    rows = []
    for q in schema.QUESTIONS:
        if q.short not in lab.columns:
            continue
        va, vb = _shown(lab.at[a_id, q.short]), _shown(lab.at[b_id, q.short])
        same = "Both blank" if not va and not vb else ("Same" if normalise(va) == normalise(vb) else "Different")
        rows.append({"Question": f"{q.number}. {q.short}", f"A (#{a_id})": va, f"B (#{b_id})": vb,
                     "Agree?": same, "Merge keeps": "B" if choice[q.code] == "other" else "A"})
    return pd.DataFrame(rows)


def _shown(v: object) -> str:
    """An answer as text for the side-by-side table: blanks empty, whole numbers without ".0"."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"
    return str(v)


def merge_services(store: Store, keep_id: int, drop_id: int, *, take: Mapping[str, str] | None = None) -> int:
    """Merge `drop_id` into `keep_id` as one undoable change; returns the change id.

    Args:
        store: The database.
        keep_id: The service that stays (its id, import and survey row are kept).
        drop_id: The service that is deleted after its answers are offered to the merge.
        take: Per question code, "keep" or "other": whose answer the merged record has.
            Questions not given take the fuller answer (`default_choices`).
    """
    keep_id, drop_id = int(keep_id), int(drop_id)
    if keep_id == drop_id:
        raise HubdashError("Choose two different services to merge.", title="Nothing to merge")
    with store.write() as cur:
        recs = records_by_id(cur, [keep_id, drop_id])
        for sid in (keep_id, drop_id):
            if sid not in recs:
                raise HubdashError(f"There is no service number {sid} any more (merged or deleted already?). "
                                   "Refresh the page.", title="Service not found")
        keep, other = recs[keep_id], recs[drop_id]
        choice = {**default_choices(keep, other), **(take or {})}
        merged = dict(keep)
        merged_other = dict(keep.get("other_answers") or {})
        for q in schema.QUESTIONS:
            if choice.get(q.code) == "other":
                merged[q.code] = other.get(q.code)
                if q.code in (other.get("other_answers") or {}):
                    merged_other[q.code] = other["other_answers"][q.code]
                else:
                    merged_other.pop(q.code, None)
        merged["other_answers"] = merged_other
        merged["extra"] = {**(other.get("extra") or {}), **(keep.get("extra") or {})}
        cid = begin_change(cur, kind="merge",
                           description=f"Merged '{other.get('name')}' (#{drop_id}) into '{keep.get('name')}' "
                                       f"(#{keep_id})")
        snapshot(cur, cid, [keep_id, drop_id])
        delete_services(cur, [keep_id, drop_id])
        insert_services(cur, [merged], service_ids=[keep_id])
    return cid
