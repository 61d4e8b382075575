"""The built-in demo: a fictional coastal borough, generated deterministically.

"Kestlemouth" does not exist. Its 20 wards are Voronoi cells clipped to an invented coastline;
its needs, sites, services and contacted agencies are made up, shaped like a real local offer
(see `../shared/reference/blackpool-context.md`) with deliberate gaps (whole empty rows and
columns of the gap map), duplications (the same baby massage group entered twice) and about
10% missing answers, so every page has something true to show.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon

from hubdash import schema
from hubdash.services import delete_services, insert_services
from hubdash.store import Store, ident

DEMO_NAME = "Kestlemouth (fictional demo borough)"
DEMO_LABEL = "Demo data: Kestlemouth is a fictional borough. No real services or people."
SEED = 20241

WARD_NAMES = [
    "Harbourside", "Northcliffe", "Saltmarsh", "Kestle Green", "Millbrook", "Old Town", "Fernhill",
    "Brackenmoor", "Westshore", "Quayside", "Ashworth Park", "Hollins", "Larkfield", "St Bride's",
    "Moorgate", "Thornbury Vale", "Copperfield", "Rowan Hill", "Eastmoor", "Sandyford",
]
LOCALITIES = ("North", "Central", "South")
CENTRE = (-2.95, 54.10)  # an empty spot on the map: no real borough is drawn here

AGE_CODES = [o.code for o in schema.AGE_GROUPS]


def _ages(spec: str) -> list[str]:
    """'m0_12-y3_5' -> every band from 0-12 months to 3-5 years; 'prebirth' -> one band."""
    if "-" not in spec:
        return [spec]
    a, b = spec.split("-")
    return AGE_CODES[AGE_CODES.index(a): AGE_CODES.index(b) + 1]


def coastline() -> Polygon:
    """An invented borough outline about 9 km wide and 15 km tall with a wavy western coast."""
    cx, cy = CENTRE
    kx, ky = 1 / (111.32 * math.cos(math.radians(cy))), 1 / 110.57  # degrees per km
    east = [(4.5 + 0.6 * math.sin(t / 2.0), t) for t in np.linspace(-7.5, 7.5, 9)]
    west = [(-4.0 + 0.7 * math.sin(t * 1.3) + 0.35 * math.cos(t * 3.1), t)
            for t in np.linspace(7.5, -7.5, 40)]
    pts = [(cx + x * kx, cy + y * ky) for x, y in east + west]
    return Polygon(pts).buffer(0)


def ward_polygons() -> list[tuple[str, str, str, Polygon]]:
    """(code, name, locality, polygon) for the 20 demo wards."""
    outline = coastline()
    rng = np.random.default_rng(SEED)
    minx, miny, maxx, maxy = outline.bounds
    seeds: list[Point] = []
    while len(seeds) < len(WARD_NAMES):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if outline.contains(p) and all(p.distance(q) > 0.012 for q in seeds):
            seeds.append(p)
    seeds.sort(key=lambda p: (-round(p.y, 2), p.x))  # north to south: ward 1 is northernmost
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.envelope.buffer(0.1))
    out = []
    for i, s in enumerate(seeds):
        cell = next(c for c in cells.geoms if c.contains(s))
        poly = cell.intersection(outline)
        locality = LOCALITIES[min(2, i * 3 // len(seeds))]
        out.append((f"DEMO{i + 1:03d}", WARD_NAMES[i], locality, poly))
    return out


# Sites: (name, kind, postcode, ward index); coordinates are the ward's inner point, nudged.
SITES = [
    ("North Family Hub", "family_hub", "KM1 2AB", 2),
    ("Central Family Hub", "family_hub", "KM4 6CD", 9),
    ("South Family Hub", "family_hub", "KM8 3EF", 16),
    ("Northcliffe Library", "site", "KM1 4GH", 1),
    ("Saltmarsh Health Centre", "site", "KM2 1JK", 2),
    ("Old Town Children's Centre", "site", "KM3 5LM", 5),
    ("Quayside Community Centre", "site", "KM4 2NP", 9),
    ("Kestlemouth Maternity Unit", "site", "KM4 9QR", 8),
    ("Hollins Church Hall", "site", "KM5 7ST", 11),
    ("Larkfield Leisure Centre", "site", "KM6 3UV", 12),
    ("Moorgate Medical Practice", "site", "KM7 1WX", 14),
    ("Rowan Hill Primary School", "site", "KM8 8YZ", 17),
    ("Sandyford Village Hall", "site", "KM9 4AB", 19),
]

LA_ORG = "Kestlemouth Council Family Hubs"
NHS_TRUST = "Kestlemouth Community Health NHS Trust"
HOSP = "Kestlemouth Hospitals NHS Foundation Trust"
MH_TRUST = "Coast and Moors Mental Health NHS Trust"

# name, kind, organisation, sector, areas, format, modes, primary outcome, secondary, ages,
# level, eligibility, workforce, evidence, groups, languages, one per locality?
CATALOGUE: list[tuple] = [
    # --- infant feeding ---
    ("Infant feeding drop-in", "service", LA_ORG, "la", "infant_feeding", "drop_in", "family_hub",
     "infant_feeding", "parent_child", "m0_12", "universal", "", "infant_feeding", "local", "", "", True),
    ("Breastfeeding peer support", "service", "Milk Matters Kestlemouth", "vcs", "infant_feeding",
     "small_group", "community_venue;online", "infant_feeding", "perinatal_mh", "prebirth-m0_12", "universal",
     "", "volunteers", "other_evidence", "low_income;young_parents", "Polish;Urdu", True),
    ("Specialist infant feeding clinic", "service", HOSP, "nhs", "infant_feeding", "one_to_one",
     "family_hub;home", "infant_feeding", "", "m0_12", "targeted_indicated",
     "Referral by midwife or health visitor for tongue-tie, weight loss or complex feeding needs",
     "infant_feeding;midwives", "other_evidence", "", "", False),
    ("Antenatal infant feeding class", "service", HOSP, "nhs", "infant_feeding;parenting", "medium_group",
     "family_hub;online", "infant_feeding", "birthing", "prebirth", "universal", "", "midwives",
     "local", "", "", False),
    ("Bottle feeding and responsive feeding advice", "service", NHS_TRUST, "nhs", "infant_feeding",
     "self_help", "online;telephone", "infant_feeding", "", "m0_12-m12_18", "universal", "",
     "health_visitors", "dont_know", "eal", "Polish;Arabic;Bengali", False),
    ("Young parents feeding support", "service", "Kestlemouth Young Families Trust", "vcs",
     "infant_feeding;parenting", "small_group", "community_venue", "infant_feeding", "parenting",
     "prebirth-m0_12", "targeted_selective", "Parents aged under 25", "family_support;volunteers",
     "local", "young_parents;low_income", "", True),
    ("Introducing solid foods workshop", "service", LA_ORG, "la", "infant_feeding", "medium_group",
     "family_hub", "infant_feeding", "child_dev", "m0_12", "universal", "", "early_years", "local", "", "", True),
    ("Healthy Start vitamins and food support", "service", LA_ORG, "la", "infant_feeding",
     "self_help", "family_hub;online", "infant_feeding", "", "prebirth-y3_5", "targeted_selective",
     "Families receiving qualifying benefits", "family_support", "dont_know", "low_income", "", False),
    # --- parenting support ---
    ("Baby Massage", "service", LA_ORG, "la", "parenting;perinatal_mh", "small_group", "family_hub",
     "parent_child", "perinatal_mh", "m0_12", "universal", "", "early_years", "local", "", "", False),
    ("Baby massage group (North hub)", "service", LA_ORG, "la", "parenting;perinatal_mh", "small_group",
     "family_hub", "parent_child", "", "m0_12", "universal", "", "early_years", "local", "", "", False),
    ("Bumps and Babies", "service", LA_ORG, "la", "parenting;infant_feeding", "drop_in", "family_hub",
     "parenting", "parent_child", "prebirth-m0_12", "universal", "", "family_support", "local", "", "", True),
    ("Incredible Years Parenting Programme", "intervention", LA_ORG, "la", "parenting", "medium_group",
     "family_hub", "parenting", "parent_child;child_dev", "y2_3-ks1", "targeted_selective",
     "Parents of children aged 3-6 with emerging behaviour concerns", "family_support", "guidebook",
     "low_income", "", True),
    ("Triple P Standard", "intervention", NHS_TRUST, "nhs", "parenting", "one_to_one", "home",
     "parenting", "parent_child", "y2_3-ks2", "targeted_indicated",
     "Children with identified conduct problems; referral via early help", "family_support", "guidebook",
     "send", "", True),
    ("Solihull Approach: Understanding your child", "intervention", LA_ORG, "la", "parenting",
     "medium_group", "family_hub;online", "parenting", "parent_child", "prebirth-ks2", "universal",
     "", "family_support;health_visitors", "other_evidence", "", "", False),
    ("Dads' Saturday club", "service", "Kestlemouth Dads Network", "vcs", "parenting", "drop_in",
     "community_venue", "parent_child", "parenting", "m0_12-y3_5", "targeted_selective",
     "Fathers and male carers", "volunteers", "local", "fathers", "", True),
    ("Reducing Parental Conflict workshops", "intervention", LA_ORG, "la", "parenting", "small_group",
     "family_hub;online", "parental_conflict", "parenting", "m0_12-ks2", "targeted_selective",
     "Couples experiencing frequent conflict, separated or separating", "family_support",
     "other_evidence", "low_income", "", False),
    ("Family Nurse Partnership", "intervention", NHS_TRUST, "nhs", "parenting;perinatal_mh",
     "one_to_one", "home", "parenting", "child_dev;parent_child", "prebirth-y2_3", "targeted_selective",
     "First-time mothers aged 19 or under at conception", "health_visitors", "guidebook",
     "young_parents;low_income", "", False),
    ("Early help family support", "service", LA_ORG, "la", "parenting", "one_to_one", "home;family_hub",
     "parenting", "", "prebirth-y16_18", "targeted_indicated",
     "Families with an early help assessment", "family_support", "local", "low_income;send", "", True),
    ("SEND parent support group", "service", "Kestlemouth Parent Carer Forum", "vcs", "parenting",
     "small_group", "community_venue;online", "parenting", "", "y2_3-ks4", "targeted_selective",
     "Parents and carers of children with SEND", "volunteers", "local", "send", "", True),
    ("Parenting helpline", "service", "Family Lines Kestlemouth", "vcs", "parenting", "self_help",
     "telephone;online", "parenting", "", "m0_12-y16_18", "universal", "", "volunteers", "dont_know",
     "", "Polish;Urdu;Arabic", False),
    ("Rainbow Families meet-up", "service", "Kestlemouth Pride Families", "vcs", "parenting",
     "small_group", "community_venue", "parent_child", "", "m0_12-ks1", "targeted_selective",
     "LGBTQ+ parents and carers", "volunteers", "local", "lgbtq", "", False),
    ("Parenting Puzzle", "intervention", LA_ORG, "la", "parenting", "medium_group", "family_hub",
     "parent_child", "parenting", "m0_12-ks2", "universal", "", "family_support", "local", "", "", True),
    # --- home learning environment ---
    ("Stay and Play", "service", LA_ORG, "la", "hle;parenting", "drop_in", "family_hub",
     "hle", "child_dev", "m0_12-y3_5", "universal", "", "early_years", "local", "", "", True),
    ("Rhyme Time at the library", "service", "Kestlemouth Libraries", "la", "hle", "large_group",
     "community_venue", "child_dev", "hle", "m0_12-y3_5", "universal", "", "other", "local", "", "", True),
    ("Talking Together speech screening", "service", NHS_TRUST, "nhs", "hle", "one_to_one",
     "family_hub;home", "child_dev", "", "m18_24-y2_3", "universal", "", "salt;health_visitors",
     "other_evidence", "eal", "Polish;Urdu;Bengali", True),
    ("Let's Talk language groups", "intervention", NHS_TRUST, "nhs", "hle", "small_group",
     "family_hub", "child_dev", "hle", "m18_24-y3_5", "targeted_indicated",
     "Children identified with language delay at the 2-year review", "salt", "local", "send", "", True),
    ("Home learning outreach visits", "service", LA_ORG, "la", "hle", "one_to_one", "home",
     "hle", "child_dev", "y2_3-y3_5", "targeted_selective",
     "Families eligible for funded 2-year-old childcare", "early_years", "local", "low_income;eal",
     "Polish;Arabic", True),
    ("Book Bugs toddler sessions", "service", "Kestlemouth Libraries", "la", "hle", "medium_group",
     "community_venue", "hle", "", "m12_18-y2_3", "universal", "", "other", "dont_know", "", "", True),
    ("PEEP Learning Together", "intervention", "Little Steps Early Years CIC", "vcs", "hle;parenting",
     "small_group", "family_hub;community_venue", "hle", "parent_child", "m0_12-y3_5", "universal",
     "", "early_years", "guidebook", "", "", True),
    ("Funded early education (2, 3 and 4 year olds)", "service", "Kestlemouth Early Years Providers",
     "private", "hle", "medium_group", "community_venue", "child_dev", "hle", "y2_3-y3_5", "universal",
     "", "early_years", "other_evidence", "", "", False),
    ("Online early language tips", "service", LA_ORG, "la", "hle", "self_help", "online", "hle", "",
     "m0_12-y3_5", "universal", "", "early_years", "dont_know", "eal", "Polish;Urdu;Arabic;Bengali", False),
    # --- perinatal mental health & parent-infant relationships ---
    ("Specialist perinatal mental health team", "service", MH_TRUST, "nhs", "perinatal_mh",
     "one_to_one", "home;family_hub", "perinatal_mh", "parent_child", "prebirth-m0_12",
     "targeted_indicated", "Moderate to severe perinatal mental illness; referral by GP or midwife",
     "mental_health", "other_evidence", "parent_mh", "", False),
    ("Parent-infant relationship service", "intervention", MH_TRUST, "nhs", "perinatal_mh",
     "one_to_one", "home", "parent_child", "perinatal_mh", "prebirth-m12_18", "targeted_indicated",
     "Concerns about the parent-infant relationship", "mental_health", "other_evidence", "parent_mh", "", False),
    ("Mums' wellbeing group", "service", "Coastal Minds", "vcs", "perinatal_mh", "small_group",
     "community_venue", "perinatal_mh", "", "prebirth-m0_12", "targeted_selective",
     "Mothers feeling low or anxious; self-referral", "volunteers;mental_health", "local", "parent_mh", "", True),
    ("Talking therapies for new parents", "service", MH_TRUST, "nhs", "perinatal_mh", "one_to_one",
     "online;telephone", "perinatal_mh", "", "prebirth-m0_12", "targeted_selective",
     "Pregnant women and parents of infants with mild to moderate anxiety or depression",
     "mental_health", "other_evidence", "parent_mh", "Polish", False),
    ("Video Interaction Guidance", "intervention", LA_ORG, "la", "perinatal_mh;parenting", "one_to_one",
     "home", "parent_child", "", "m0_12-y2_3", "targeted_indicated",
     "Families referred by health visitor or social worker", "family_support", "guidebook", "", "", False),
    ("Dads' perinatal wellbeing chat", "service", "Kestlemouth Dads Network", "vcs", "perinatal_mh",
     "drop_in", "online", "perinatal_mh", "", "prebirth-m0_12", "targeted_selective",
     "Fathers and partners", "volunteers", "local", "fathers;parent_mh", "", False),
    ("Birth reflections service", "service", HOSP, "nhs", "perinatal_mh", "one_to_one", "family_hub",
     "birthing", "perinatal_mh", "m0_12", "targeted_indicated", "Parents with a difficult birth experience",
     "midwives", "local", "", "", False),
    ("Antenatal education: preparing for birth", "service", HOSP, "nhs", "parenting;perinatal_mh",
     "medium_group", "family_hub;online", "birthing", "parenting", "prebirth", "universal", "",
     "midwives", "local", "", "Polish;Urdu", True),
    ("Health visiting: new birth visit", "service", NHS_TRUST, "nhs",
     "infant_feeding;parenting;perinatal_mh;hle", "one_to_one", "home", "parenting",
     "infant_feeding;perinatal_mh", "m0_12", "universal", "", "health_visitors", "other_evidence", "", "", True),
    ("Health visiting: 2-year review", "service", NHS_TRUST, "nhs", "hle;parenting", "one_to_one",
     "home;family_hub", "child_dev", "hle", "y2_3", "universal", "", "health_visitors", "other_evidence",
     "", "", True),
    ("Young people's mental health drop-in", "service", "Coastal Minds", "vcs", "other", "drop_in",
     "community_venue", "other", "", "ks3-y18_25", "universal", "", "mental_health", "local", "", "", False),
    ("Teen parents' group", "service", "Kestlemouth Young Families Trust", "vcs", "parenting",
     "small_group", "community_venue", "parenting", "", "prebirth-m18_24", "targeted_selective",
     "Parents aged 13 to 19", "family_support", "local", "young_parents", "", False),
]

ORG_CONTACTS = {
    LA_ORG: "familyhubs@example.org",
}

# Deliberate gaps kept by construction: no intervention improves birthing experience or infant
# feeding; nothing targeted indicated reaches 16-25; no service at all is for 18-25 except one.


def _services(ward_info: list[tuple[str, str, str]]) -> list[dict]:
    rng = np.random.default_rng(SEED + 1)
    wards_by_loc: dict[str, list[str]] = {}
    for _, name, loc in ward_info:
        wards_by_loc.setdefault(loc, []).append(name)
    records: list[dict] = []
    first_names = ["Sam", "Priya", "Jo", "Aisha", "Tom", "Kasia", "Lee", "Mo", "Ruth", "Dev"]
    for tpl in CATALOGUE:
        (name, kind, org, sector, areas, fmt, modes, outcome, secondary, ages, level, elig, work, ev,
         groups, langs, per_loc) = tpl
        variants = [(f"{name} ({loc})", loc) for loc in LOCALITIES] if per_loc else [(name, None)]
        for vname, loc in variants:
            if loc:
                wards = wards_by_loc[loc]
                hub_pc = {"North": "KM1 2AB", "Central": "KM4 6CD", "South": "KM8 3EF"}[loc]
            else:
                wards = [schema.WHOLE_LA] if rng.random() < 0.55 else list(
                    rng.choice([w for _, w, _ in ward_info], size=int(rng.integers(3, 9)), replace=False))
                hub_pc = SITES[int(rng.integers(0, len(SITES)))][2]
            cap = float(int(rng.integers(2, 40)) * 10)
            reached = float(int(cap * rng.uniform(0.4, 1.05)))
            contact = first_names[int(rng.integers(0, len(first_names)))]
            rec = {
                "name": vname, "kind": kind, "organisation": org, "sector": sector,
                "service_areas": areas.split(";"), "format": fmt, "delivery_modes": modes.split(";"),
                "primary_outcome": outcome, "secondary_outcomes": [s for s in secondary.split(";") if s],
                "age_groups": [a for spec in ages.split(";") for a in _ages(spec)], "target_level": level,
                "eligibility": elig or None, "wards": wards, "postcodes": [hub_pc],
                "workforce": work.split(";"), "capacity": cap, "families_supported": reached,
                "annual_cost": float(int(rng.integers(5, 120)) * 1000),
                "funding": list(rng.choice(["fh_sfl_grant", "public_health", "la_core", "nhs_icb", "charitable"],
                                           size=int(rng.integers(1, 3)), replace=False)),
                "evidence": ev, "groups": groups.split(";") if groups else ["none"],
                "languages": langs.split(";") if langs else [],
                "interpreter": "on_request" if rng.random() < 0.5 else ("yes" if rng.random() < 0.5 else "no"),
                "contact_name": f"{contact} Example",
                "contact_email": ORG_CONTACTS.get(org, f"{contact.lower()}.example@example.org"),
            }
            if sector == "nhs":
                rec["funding"] = ["nhs_icb"]
            records.append(rec)
    # Community-run groups, as real survey returns have many: small, local, mostly universal.
    kinds_of_group = [
        # name, areas, outcome, secondary, ages, level, eligibility, groups
        ("Toddler group", ["hle"], "hle", ["parent_child"], "m12_18-y3_5", "universal", None, ["none"]),
        ("Baby and me", ["parenting"], "parent_child", [], "m0_12", "universal", None, ["none"]),
        ("Messy play", ["hle"], "child_dev", ["hle"], "m12_18-y3_5", "universal", None, ["none"]),
        ("Chatter Tots", ["hle"], "child_dev", [], "m18_24-y3_5", "universal", None, ["eal"]),
        ("Mums' coffee morning", ["perinatal_mh"], "perinatal_mh", ["parent_child"], "m0_12", "universal",
         None, ["parent_mh"]),
        ("Breastfeeding cafe", ["infant_feeding"], "infant_feeding", [], "m0_12", "universal", None, ["none"]),
        ("Family food and play", ["infant_feeding", "hle"], "hle", ["infant_feeding"], "m12_18-y3_5",
         "targeted_selective", "Families on a low income", ["low_income"]),
        ("New to the area parents' circle", ["parenting"], "parenting", [], "prebirth-y3_5",
         "targeted_selective", "Families new to the UK", ["minority_ethnic", "eal"]),
    ]
    venues = ["St Bride's church hall", "Hollins community room", "Larkfield scout hut", "Quayside chapel",
              "Fernhill village hall", "Moorgate tenants' hall", "Harbourside mosque", "Eastmoor sports club",
              "Copperfield library"]
    ward_names = [w for _, w, _ in ward_info]
    i = 0
    while len(records) < 158 and i < len(kinds_of_group) * len(venues):
        pair = (i * 29) % (len(kinds_of_group) * len(venues))  # 29 is coprime with 72: no repeats
        g, areas, outcome, secondary, ages, level, elig, groups = kinds_of_group[pair // len(venues)]
        v = venues[pair % len(venues)]
        ward = ward_names[(i * 7) % len(ward_names)]
        records.append({
            "name": f"{g} at {v}", "kind": "service", "organisation": f"{v.rsplit(' ', 1)[0]} Community Association",
            "sector": "vcs" if i % 5 else "other", "service_areas": areas, "format": "drop_in" if i % 4 else "small_group",
            "delivery_modes": ["community_venue"], "primary_outcome": outcome, "secondary_outcomes": secondary,
            "age_groups": _ages(ages), "target_level": level, "eligibility": elig, "wards": [ward],
            "postcodes": [SITES[3 + i % 10][2]], "workforce": ["volunteers"],
            "capacity": float(20 + 5 * (i % 6)), "families_supported": float(15 + 4 * (i % 7)),
            "annual_cost": float(1500 + 250 * (i % 5)), "funding": ["charitable"], "evidence": "local",
            "groups": groups, "languages": ["Urdu", "Arabic"] if "eal" in groups else [], "interpreter": "no",
            "contact_name": f"{first_names[i % 10]} Example",
            "contact_email": f"{first_names[i % 10].lower()}.{i}@example.org",
        })
        i += 1
    _add_mess(records, rng)
    for n, r in enumerate(records, start=2):
        r["source_file"] = "demo"
        r["source_row"] = n
    return records


def _add_mess(records: list[dict], rng: np.random.Generator) -> None:
    """About 10% missing answers and the odd unclear one, as real returns have."""
    optional = ["organisation", "sector", "format", "delivery_modes", "secondary_outcomes", "eligibility",
                "postcodes", "workforce", "capacity", "families_supported", "annual_cost", "funding",
                "evidence", "groups", "languages", "interpreter", "wards"]
    for r in records:
        for f in optional:
            if rng.random() < 0.09:
                r[f] = [] if isinstance(r.get(f), list) else None
    # Named defects the Data quality page should find.
    records[5]["age_groups"] = []                       # required answer missing
    records[17]["eligibility"] = "tbc"                  # placeholder answer
    records[23]["capacity"], records[23]["families_supported"] = 20.0, 45.0  # reached > capacity
    records[31]["postcodes"] = ["KM99"]                 # not a valid postcode
    records[40]["wards"] = ["St Brides Ward"]           # not a ward in the ward table
    records[44]["age_groups"] = ["m0_12", "y3_5"]       # not contiguous


def _needs(wards: list[tuple[str, str, str, Polygon]]) -> list[tuple]:
    rng = np.random.default_rng(SEED + 2)
    rows = []
    n = len(wards)
    for i, (code, _, _, poly) in enumerate(wards):
        # Deprivation peaks in the central coastal wards, as in many seaside towns.
        centrality = 1 - abs(i - n / 2) / (n / 2)
        imd = round(float(np.clip(12 + 38 * centrality + rng.normal(0, 6), 6, 62)), 1)
        decile = int(np.clip(11 - math.ceil(imd / 6.5), 1, 10))
        pop04 = int(320 + 520 * centrality + rng.integers(0, 180))
        pct_me = round(float(np.clip(3 + 26 * centrality ** 2 + rng.normal(0, 3), 1, 40)), 1)
        values = {
            "pop_0_4": pop04,
            "pop_0_19": int(pop04 * rng.uniform(3.8, 4.4)),
            "births": int(pop04 / 5 * rng.uniform(0.9, 1.1)),
            "imd_score": imd,
            "imd_decile": decile,
            "pct_minority_ethnic": pct_me,
            "breastfeeding_6_8wk": round(float(np.clip(62 - 0.7 * imd + rng.normal(0, 4), 15, 75)), 1),
            "smoking_at_delivery": round(float(np.clip(3 + 0.35 * imd + rng.normal(0, 2), 2, 30)), 1),
            "children_low_income": round(float(np.clip(5 + 0.7 * imd + rng.normal(0, 3), 4, 50)), 1),
            "young_parent_births": round(float(np.clip(4 + 0.3 * imd + rng.normal(0, 2), 2, 25)), 1),
        }
        for ind, v in values.items():
            rows.append((code, ind, float(v), schema.INDICATOR_BY_CODE[ind].unit, "2025",
                         "Fictional demo data"))
    return rows


def _agencies(records: list[dict]) -> list[tuple[str, str, list[str], bool]]:
    """Every organisation that answered, plus some that were asked and did not."""
    seen: dict[str, tuple[str, set[str]]] = {}
    for r in records:
        org = r.get("organisation")
        if org:
            sector, areas = seen.get(org, (r.get("sector") or "other", set()))
            seen[org] = (sector, areas | set(a for a in r["service_areas"] if a != "other"))
    out = [(org, sector, sorted(areas), True) for org, (sector, areas) in seen.items()]
    silent = [
        ("Kestlemouth Food Bank", "vcs", ["infant_feeding"]), ("Coastal Women's Centre", "vcs", ["perinatal_mh"]),
        ("Harbour Mosque Family Circle", "vcs", ["parenting"]), ("Polish Saturday School", "vcs", ["hle"]),
        ("Home-Start Kestlemouth", "vcs", ["parenting", "perinatal_mh"]),
        ("Kestlemouth Carers Centre", "vcs", ["parenting"]), ("Sure Steps Nursery Group", "private", ["hle"]),
        ("Kestlemouth GP Federation", "nhs", ["perinatal_mh", "infant_feeding"]),
        ("Drug and Alcohol Service", "nhs", ["perinatal_mh"]), ("Kestlemouth Housing Support", "la", ["parenting"]),
        ("Domestic Abuse Partnership", "vcs", ["parenting", "perinatal_mh"]),
        ("Youth Service", "la", ["parenting"]), ("Bright Beginnings Childminders", "private", ["hle"]),
        ("Traveller Education Support", "la", ["hle"]),
    ]
    out += [(o, s, a, False) for o, s, a in silent]
    return out


def build_demo(store: Store) -> dict[str, int]:
    """Replace the store's contents with the fictional demo borough; returns row counts."""
    wards = ward_polygons()
    from hubdash.geo import ward_rows  # local import: geo pulls in geopandas

    ward_table = ward_rows([(c, n, loc, p) for c, n, loc, p in wards], source="Fictional demo data")
    records = _services([(c, n, loc) for c, n, loc, _ in wards])
    needs = _needs(wards)
    agencies = _agencies(records)
    polys = {c: p for c, _, _, p in wards}
    with store.write() as cur:
        for t in ("needs", "sites", "postcode_lookup", "agency_areas", "agencies", "wards"):
            cur.execute("DELETE FROM " + ident(t))
        ids = [r[0] for r in cur.execute("SELECT service_id FROM services").fetchall()]
        delete_services(cur, ids)
        cur.execute("DELETE FROM imports")
        cur.executemany(
            "INSERT INTO wards (ward_code, ward_name, name_key, locality, geometry, geometry_display, "
            "area_km2, centroid_lon, centroid_lat, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ward_table,
        )
        cur.executemany("INSERT INTO needs VALUES (?, ?, ?, ?, ?, ?)", needs)
        for i, (name, kind, pc, wi) in enumerate(SITES):
            p = polys[wards[wi][0]].representative_point()
            lon, lat = p.x + 0.002 * ((i % 3) - 1), p.y + 0.0015 * ((i % 2) - 0.5)
            if not polys[wards[wi][0]].contains(Point(lon, lat)):
                lon, lat = p.x, p.y
            cur.execute("INSERT INTO sites (name, kind, postcode, lat, lon, ward_code, source) "
                        "VALUES (?, ?, ?, ?, ?, ?, 'Fictional demo data')",
                        [name, kind, pc, lat, lon, wards[wi][0]])
            cur.execute("INSERT OR REPLACE INTO postcode_lookup VALUES (?, ?, ?)", [pc, lat, lon])
        insert_services(cur, records)
        contacted = dt.date(2025, 9, 1)
        for i, (org, sector, areas, responded) in enumerate(agencies, start=1):
            cur.execute("INSERT INTO agencies (agency_id, organisation, sector, contacted_on, responded) "
                        "VALUES (?, ?, ?, ?, ?)", [i, org, sector, contacted + dt.timedelta(days=i % 9), responded])
            for a in areas:
                cur.execute("INSERT INTO agency_areas VALUES (?, ?)", [i, a])
        for k, v in (("demo", "1"), ("la_name", DEMO_NAME), ("data_date", "2025-10-15")):
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [k, v])
    store.checkpoint()
    return store.counts()
