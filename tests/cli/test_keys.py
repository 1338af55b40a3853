"""Retiring a PII_KEYS key: ``kazi keys rotate`` then ``kazi keys reindex``, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.fernet import Fernet
from sqlalchemy import select

from app import create_app
from app.models import Partner, PartnerEvent, Person, Placement
from app.partners.effects import PASSPORT_INDEX
from app.registration import national_id_registered
from tests.conftest import TEST_PII_KEY
from tests.partners.helpers import PartnerClient, add_person, departure, new_partner

NEW_KEY = Fernet.generate_key().decode()
OLD_KEY = TEST_PII_KEY


@contextmanager
def app_with(config: dict, keys: str) -> Iterator:
    """The app as it runs with ``PII_KEYS=keys`` (the same database and Redis)."""
    app = create_app({**config, "PII_KEYS": keys})
    try:
        # Pushed over the test's own app, so that commands and services() use this one.
        with app.app_context():
            yield app
    finally:
        svc = app.extensions["kazi"]
        svc.redis.close()
        svc.db.dispose()


def tokens(svc) -> list[bytes]:
    """Every encrypted value this test stored."""
    with svc.db.Session() as session:
        person = session.scalars(select(Person)).one()
        found = [person.national_id_enc, person.passport_enc]
        found += session.scalars(select(Partner.secret_enc)).all()
        found += session.scalars(select(PartnerEvent.body_enc)).all()
    return found


def stored(svc) -> int:
    """Register a person (national ID and passport, encrypted with the old key); give the id."""
    person_id = add_person(svc, national_id="12345678")
    with svc.db.session() as session:
        person = session.get(Person, person_id)
        person.passport_enc = svc.cipher.encrypt("AK1234567")
        person.passport_bidx = svc.cipher.blind_index(PASSPORT_INDEX, "AK1234567")
    return person_id


def test_a_key_is_retired_and_every_lookup_still_finds_its_person(app, config, svc, client):
    person_id = stored(svc)
    partner_id, secret = new_partner(svc)
    unmatched = PartnerClient(client, partner_id, secret).post(
        departure(national_id=None, passport="BK7654321"))
    assert unmatched.status_code == 202

    # 1. The new key goes first; everything is re-encrypted with it.
    with app_with(config, f"{NEW_KEY},{OLD_KEY}") as both:
        done = both.test_cli_runner().invoke(args=["keys", "rotate"])
        assert done.exit_code == 0, done.output
        assert "people.national_id_enc=1" in done.output
        assert "partner_events.body_enc=1" in done.output
        assert "partners.secret_enc=1" in done.output
        new_only = Fernet(NEW_KEY.encode())
        assert all(new_only.decrypt(token) for token in tokens(svc))
        # 2. The blind indexes are computed again as the new key alone will.
        done = both.test_cli_runner().invoke(args=["keys", "reindex"],
                                             env={"NEW_PII_KEYS": NEW_KEY})
        assert done.exit_code == 0, done.output
        assert "people=1" in done.output and "partner_events=1" in done.output

    # 3. Deployed with the new key alone: the old one is gone for good.
    with app_with(config, NEW_KEY) as after:
        new = after.extensions["kazi"]
        with new.db.Session() as session:
            assert national_id_registered(new, session, "12345678")
            person = session.get(Person, person_id)
            assert person.passport_bidx == new.cipher.blind_index(PASSPORT_INDEX, "AK1234567")
            event = session.scalars(select(PartnerEvent)).one()
            assert event.passport_bidx == new.cipher.blind_index(PASSPORT_INDEX, "BK7654321")
        # A partner's signature still checks (its secret is read with the new key),
        # and its event finds the person by national ID through the new index.
        with after.test_client() as own:
            matched = PartnerClient(own, partner_id, secret).post(departure())
        assert matched.status_code == 200, matched.get_json()
        assert matched.get_json()["status"] == "applied"
        with new.db.Session() as session:
            placement = session.scalars(select(Placement)).one()
            assert (placement.person_id, placement.status) == (person_id, "departed")


def test_reindex_refuses_while_a_row_still_needs_the_old_key(app, config, svc):
    stored(svc)
    with svc.db.Session() as session:
        before = session.scalars(select(Person.national_id_bidx)).one()
    with app_with(config, f"{NEW_KEY},{OLD_KEY}") as both:
        done = both.test_cli_runner().invoke(args=["keys", "reindex"],
                                             env={"NEW_PII_KEYS": NEW_KEY})
    assert done.exit_code != 0
    assert "people.national_id_enc=1" in done.output and "kazi keys rotate" in done.output
    with svc.db.Session() as session:
        assert session.scalars(select(Person.national_id_bidx)).one() == before


def test_reindex_needs_the_keys_to_keep(app, config):
    with app_with(config, f"{NEW_KEY},{OLD_KEY}") as both:
        done = both.test_cli_runner().invoke(args=["keys", "reindex"], env={"NEW_PII_KEYS": ""})
    assert done.exit_code != 0 and "NEW_PII_KEYS" in done.output
