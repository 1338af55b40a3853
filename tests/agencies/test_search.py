"""app/agencies/search.py and index.py: licence numbers in any spelling, forgiving names, a fresh
index."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.agencies import index as index_module
from app.agencies import search as search_module
from app.agencies.index import VERSION_KEY, build, current_index, register_changed
from app.agencies.search import LIMIT, nearest_only, search
from app.models import Licence
from tests.agencies.helpers import add, days, row

REGISTER = [
    row("NEA/PEA/2024/0001", "Savanna Recruitment Agency Ltd"),
    row("NEA/PEA/2024/0002", "Gulf Star Manpower Services Ltd", "suspended"),
    row("NEA/PEA/2023/0003", "Crescent Overseas Placement Ltd", "revoked"),
    row("NEA/PEA/2023/0004", "Nuru Employment Agency Ltd", "expired", days(-30)),
    row("NEA/PEA/2022/0005", "Crescent Star Careers Ltd"),
    row("NEA/PEA/2022/0006", "Crescent Hope Agencies (K) Ltd"),
    row("NEA/PEA/2021/0007", "Al-Noor Travel & Recruitment Co. Ltd"),
    row("NEA/PEA/2021/0008", "Mombasa Pride International Ltd"),
]


@pytest.fixture
def index(svc):
    add(svc, *REGISTER)
    return current_index(svc.db, svc.redis)


def names(matches) -> list[str]:
    return [m.name for m in matches]


@pytest.mark.parametrize("typed", [
    "NEA/PEA/2024/0002", "nea/pea/2024/0002", " NEA / PEA / 2024 / 0002 ", "2024/0002",
    "2024 2", "20240002", "PEA-2024-0002", "licence no 2024/2",
])
def test_licence_number_in_any_spelling(index, typed):
    assert names(search(index, typed)) == ["Gulf Star Manpower Services Ltd"]


def test_an_unknown_licence_number_finds_nothing_rather_than_a_near_one(index):
    assert search(index, "NEA/PEA/2024/0009") == []
    assert search(index, "2024 12") == []


@pytest.mark.parametrize("typed", [
    "savanna", "SAVANNA", "Savanna Ltd", "savanna recruitment agency limited",
    "Savanna, Recruitment-Agency.", "savana", "svanna recruters", "Savannah Agency",
    "savanna agensy ltd",
])
def test_forgiving_names_find_the_agency(index, typed):
    assert names(search(index, typed)) == ["Savanna Recruitment Agency Ltd"]


@pytest.mark.parametrize("typed,nearest", [
    ("savanna", False), ("Savanna Ltd", False), ("2024/0001", False),
    ("savana", True), ("svanna recruters", True), ("Savannah Agency", True),
    ("Savanna International Agency", True),
])
def test_one_match_for_a_changed_or_misspelt_name_is_only_the_nearest(index, typed, nearest):
    found = search(index, typed)
    assert names(found) == ["Savanna Recruitment Agency Ltd"]
    assert nearest_only(typed, found) is nearest


def test_matches_none_of_which_has_the_name_typed_are_only_the_nearest(index):
    assert not nearest_only("crescent", search(index, "crescent"))  # each is a Crescent
    found = search(index, "Crescent Manpower")  # none of them is
    assert len(found) == 3 and nearest_only("Crescent Manpower", found)
    assert not nearest_only("tumaini jobs", search(index, "tumaini jobs"))  # nothing found


def test_punctuation_and_ampersands_do_not_matter(index):
    assert names(search(index, "al noor travel and recruitment")) == [
        "Al-Noor Travel & Recruitment Co. Ltd"]
    assert names(search(index, "ALNOOR")) == ["Al-Noor Travel & Recruitment Co. Ltd"]


def test_an_exact_name_wins_over_names_that_contain_it(index):
    assert names(search(index, "Crescent Overseas Placement")) == [
        "Crescent Overseas Placement Ltd"]


def test_a_name_typed_in_full_picks_its_agency_out_of_those_sharing_its_key(svc, index):
    add(svc, row("NEA/PEA/2025/0009", "Savanna International Agencies Ltd"))
    index = current_index(svc.db, svc.redis)
    both = ["Savanna International Agencies Ltd", "Savanna Recruitment Agency Ltd"]
    assert names(search(index, "savanna")) == both  # could be either
    assert names(search(index, "Savanna Ltd")) == both
    assert names(search(index, "SAVANNA RECRUITMENT AGENCY LIMITED")) == [both[1]]
    assert names(search(index, "agency recruitment savanna")) == [both[1]]
    assert names(search(index, "Savanna International Agencies")) == [both[0]]
    assert names(search(index, "Savanna Recruitment")) == [both[1]]  # only it has both words
    assert names(search(index, "savanna agencies")) == [both[0]]


def test_the_only_agency_with_every_word_typed_is_picked_out_of_look_alikes(svc, index):
    add(svc, row("NEA/PEA/2025/0010", "Tai Star Placement Services Ltd"),
        row("NEA/PEA/2025/0011", "Tai Star Human Resource Consultants Ltd"))
    index = current_index(svc.db, svc.redis)
    assert len(search(index, "tai star")) == 2  # both are Tai Star
    assert names(search(index, "Tai Star Placement")) == ["Tai Star Placement Services Ltd"]
    assert names(search(index, "tai star human")) == ["Tai Star Human Resource Consultants Ltd"]
    found = search(index, "Tai Star Manpower")  # neither: both offered as the nearest
    assert len(found) == 2 and nearest_only("Tai Star Manpower", found)


def test_several_matches_are_ranked_prefix_first_then_by_name(index):
    found = search(index, "crescent")
    assert names(found) == ["Crescent Hope Agencies (K) Ltd", "Crescent Overseas Placement Ltd",
                            "Crescent Star Careers Ltd"]
    assert names(search(index, "star")) == ["Crescent Star Careers Ltd",
                                            "Gulf Star Manpower Services Ltd"]
    assert [m.status for m in found] == ["valid", "revoked", "valid"]


def test_matches_carry_what_the_list_shows(index):
    (match,) = search(index, "nuru")
    assert (match.licence_no, match.status) == ("NEA/PEA/2023/0004", "expired")


def test_nothing_and_too_little_find_nothing(index):
    assert search(index, "Tumaini Jobs") == []
    assert search(index, "x") == []
    assert search(index, "ltd") == []


def test_the_limit_caps_the_list(index):
    assert len(search(index, "crescent", limit=2)) == 2


def test_a_repeated_search_is_answered_from_the_index_memory(index):
    first = search(index, "crescent")
    assert ("crescent", LIMIT) in index.recent
    first.clear()  # the caller's list is its own: the remembered answer is untouched
    again = search(index, "crescent")
    assert names(again) == ["Crescent Hope Agencies (K) Ltd", "Crescent Overseas Placement Ltd",
                            "Crescent Star Careers Ltd"]
    assert again == search_module._search(index, "crescent", LIMIT)


def test_remembered_searches_are_bounded_and_die_with_their_index(svc, index, monkeypatch):
    monkeypatch.setattr(search_module, "RECENT", 3)
    for query in ("savanna", "tumaini", "crescent", "star", "al noor"):
        search(index, query)
    assert list(index.recent) == [("crescent", LIMIT), ("star", LIMIT), ("al noor", LIMIT)]
    assert search(index, "tumaini") == []
    add(svc, row("NEA/PEA/2025/0099", "Tumaini Jobs Ltd"))  # the register changes...
    fresh = current_index(svc.db, svc.redis)
    assert fresh.recent == {}  # ...and nothing found before is remembered by the new index
    assert names(search(fresh, "tumaini")) == ["Tumaini Jobs Ltd"]


def test_the_index_follows_imports_and_survives_a_lost_redis_key(svc, index):
    assert current_index(svc.db, svc.redis) is index  # nothing changed: the same index
    add(svc, row("NEA/PEA/2025/0099", "Tumaini Jobs Ltd"))
    fresh = current_index(svc.db, svc.redis)
    assert fresh is not index and names(search(fresh, "tumaini")) == ["Tumaini Jobs Ltd"]
    svc.redis.delete(VERSION_KEY)
    with svc.db.session() as session:  # a change nobody announced...
        session.execute(update(Licence).values(status="suspended"))
    from_sql = current_index(svc.db, svc.redis)  # ...is seen once the key is gone
    assert from_sql.token.startswith("sql:")
    assert svc.redis.get(VERSION_KEY).decode() == from_sql.token
    assert current_index(svc.db, svc.redis) is from_sql


def test_five_thousand_agencies_are_searched(svc):
    """A register the size of bench/agency_lookup.py's; its speed is measured there."""
    words = ["Savanna", "Imara", "Tumaini", "Baraka", "Neema", "Upendo", "Amani", "Jamii",
             "Safari", "Fanaka", "Zawadi", "Mwangaza", "Heshima", "Ujuzi", "Bidii", "Faraja",
             "Kilele", "Pwani", "Mlima", "Ziwa", "Tana", "Athi", "Nyota", "Uhuru", "Harambee"]
    rows = [row(f"NEA/PEA/{2019 + i % 7}/{i + 1:04d}",
                f"{words[i % 25]} {words[(i // 25) % 25]} {i} Recruitment Ltd")
            for i in range(5000)]
    add(svc, *rows)
    index = current_index(svc.db, svc.redis)
    assert len(index.ids) == 5000
    assert names(search(index, "NEA/PEA/2020/0002")) == ["Imara Savanna 1 Recruitment Ltd"]
    assert names(search(index, "savanna imara 25")) == ["Savanna Imara 25 Recruitment Ltd"]
    assert names(search(index, "savana imara 25"))[0] == "Savanna Imara 25 Recruitment Ltd"
    assert len(search(index, "tumaini")) == LIMIT
    assert search(index, "zzz nothing here") == []


def test_the_exact_registered_name_is_never_only_the_nearest(svc):
    """Over the demo register: a name typed as registered, or with its legal form and
    generic words left out, is answered (or listed with its namesakes), never offered as
    the nearest name; with a generic word changed, what is found always is."""
    from app.agencies.demo import demo_rows
    from app.agencies.names import name_tokens
    from app.agencies.register import import_rows, kenya_today

    rows = demo_rows(300, kenya_today())
    with svc.db.session() as session:
        import_rows(session, rows, source="demo.csv")
    register_changed(svc.redis)
    index = current_index(svc.db, svc.redis)
    offered = 0
    for r in rows:
        for typed in (r.name, r.name.upper(), " ".join(name_tokens(r.name))):
            found = search(index, typed)
            assert r.name in names(found), typed
            assert not nearest_only(typed, found), typed
        # A generic word the registered name lacks: the same search key, another name.
        extra = "Bureau" if "bureau" not in r.name.lower() else "Staffing"
        changed = " ".join(name_tokens(r.name)) + " " + extra
        found = search(index, changed)
        if found:
            offered += 1
            assert nearest_only(changed, found), changed
    assert offered > 250  # the search still finds them; all as the nearest names


def test_the_vocabulary_only_skips_scans_that_would_find_nothing(svc, monkeypatch):
    """A spaced search first asks the register's words whether any name could hold what
    was typed; over parts of the demo register's names, whole and with a letter changed,
    every search gives what reading every name gives."""
    import random

    from app.agencies.demo import demo_rows
    from app.agencies.register import import_rows, kenya_today

    rows = demo_rows(300, kenya_today())
    with svc.db.session() as session:
        import_rows(session, rows, source="demo.csv")
    register_changed(svc.redis)
    index = current_index(svc.db, svc.redis)
    rng = random.Random(7)
    typed = []
    for _ in range(3000):
        name = rng.choice(rows).name
        start = rng.randrange(len(name))
        part = name[start:rng.randrange(start + 1, len(name) + 1)]
        cut = rng.randrange(len(part))
        typed += [part, part[:cut] + rng.choice("aeioukmz") + part[cut + 1:]]
    with_words = []
    for text in typed:
        index.recent.clear()
        with_words.append(names(search(index, text)))
    assert index.holding("zzzq qqq", spaced=True) == []
    skipped = sum(not index._words_could_hold(" ".join(text.lower().split())) for text in typed)
    assert skipped > 500  # the check does skip scans
    monkeypatch.setattr(index_module.Index, "_words_could_hold", lambda self, spaced: True)
    for text, found in zip(typed, with_words, strict=True):
        index.recent.clear()
        assert names(search(index, text)) == found, text


def test_build_gives_the_register_date(svc):
    add(svc, row())
    with svc.db.Session() as session:
        assert build(session).updated_at is not None


def test_a_gateway_worker_builds_the_index_as_it_starts(svc, caplog):
    from app.db import Database

    add(svc, row("NEA/PEA/2024/0001", "Savanna Recruitment Agency Ltd"))
    index_module.warm(svc.db, svc.redis)
    built = index_module._indexes[svc.db]
    assert built.names == ("Savanna Recruitment Agency Ltd",)
    assert current_index(svc.db, svc.redis) is built  # the first check finds it ready
    # No database yet: the worker still starts, and says so.
    nowhere = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    index_module.warm(nowhere, None)
    assert "register index not built at start" in caplog.text
    nowhere.dispose()
