"""Rotating ``PII_KEYS``: re-encrypt every personal field, and re-index before a key retires.

``PII_KEYS`` lists Fernet keys, newest first. The newest encrypts; any decrypts; the
*last* one keys the blind indexes that find a person by national ID or passport
without decrypting (``app.crypto``). Retiring a key is therefore two steps, each a
command (``docs/runbook-keys.md``):

1. ``rotate``: with the new key first in ``PII_KEYS``, re-encrypt every encrypted
   column with it, so that no row needs an older key to be read.
2. ``reindex``: when the key to retire is the last one, compute every blind index
   again with the keys that will remain (``new_keys``), then deploy those keys.

Both work in batches of committed rows and can be run again after an interruption.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from app.crypto import PiiCipher
from app.extensions import Services
from app.models import Partner, PartnerEvent, Person, RegistrationDraft, SmsDialogue
from app.partners.effects import PASSPORT_INDEX
from app.partners.events import FieldError, person_identifiers

ENCRYPTED: tuple[tuple[Any, str], ...] = (
    (Person, "national_id_enc"),
    (Person, "passport_enc"),
    (Partner, "secret_enc"),
    (PartnerEvent, "body_enc"),
    (RegistrationDraft, "state_enc"),
    (SmsDialogue, "state_enc"),
)
"""Every Fernet-encrypted column (session state in Redis is AES-GCM and short-lived)."""

BATCH = 500


def rotate(svc: Services, batch: int = BATCH) -> dict[str, int]:
    """Re-encrypt every encrypted column with the newest key; give rows per column."""
    done = dict.fromkeys(_names(), 0)
    for name, column, session, rows in _encrypted(svc, batch):
        for row in rows:
            setattr(row, column, svc.cipher.rotate(getattr(row, column)))
        session.commit()
        done[name] += len(rows)
    return done


def unreadable(svc: Services, new_keys: Sequence[str]) -> dict[str, int]:
    """Count, per column, the rows that the keys to remain could not decrypt."""
    cipher = PiiCipher(new_keys)
    found: dict[str, int] = {}
    for name, column, _, rows in _encrypted(svc, BATCH):
        for row in rows:
            try:
                cipher.decrypt(getattr(row, column))
            except ValueError:
                found[name] = found.get(name, 0) + 1
    return found


def _names() -> list[str]:
    return [f"{model.__tablename__}.{column}" for model, column in ENCRYPTED]


def _encrypted(svc: Services, batch: int) -> Iterator[tuple[str, str, Any, list]]:
    """Give (column's name, column, session, rows) for every batch of encrypted values."""
    for (model, column), name in zip(ENCRYPTED, _names(), strict=True):
        for session, rows in _batches(svc, model, getattr(model, column).is_not(None), batch):
            yield name, column, session, rows


def reindex(svc: Services, new_keys: Sequence[str], batch: int = BATCH) -> dict[str, int]:
    """Compute every blind index again as ``new_keys`` will; give rows per table.

    Refuses (ValueError) while any row could not be read with ``new_keys`` alone:
    run ``rotate`` first. Until the app runs with ``new_keys``, lookups by national
    ID or passport miss the rows done so far.
    """
    missing = unreadable(svc, new_keys)
    if missing:
        raise ValueError("rows the new keys cannot decrypt (run `kazi keys rotate` first): "
                         + ", ".join(f"{k}={v}" for k, v in missing.items()))
    new = PiiCipher(new_keys)
    people = events = 0
    for session, rows in _batches(svc, Person, None, batch):
        for person in rows:
            if person.national_id_enc:
                person.national_id_bidx = new.blind_index(
                    "national_id", svc.cipher.decrypt(person.national_id_enc))
            if person.passport_enc:
                person.passport_bidx = new.blind_index(
                    PASSPORT_INDEX, svc.cipher.decrypt(person.passport_enc))
        session.commit()
        people += len(rows)
    for session, rows in _batches(svc, PartnerEvent, None, batch):
        for event in rows:
            national_id, passport = _event_identifiers(svc.cipher.decrypt(event.body_enc))
            event.national_id_bidx = (new.blind_index("national_id", national_id)
                                      if national_id else None)
            event.passport_bidx = (new.blind_index(PASSPORT_INDEX, passport)
                                   if passport else None)
        session.commit()
        events += len(rows)
    return {"people": people, "partner_events": events}


def _event_identifiers(body: str) -> tuple[str | None, str | None]:
    """The national ID and passport a stored partner event names, read as on arrival."""
    try:
        return person_identifiers(json.loads(body).get("person"))
    except (ValueError, AttributeError, FieldError):
        return None, None  # a police alert names nobody


def _batches(svc: Services, model: Any, where: Any, size: int) -> Iterator[tuple[Any, list]]:
    """Give (session, rows) a batch at a time, by id, each batch in a session of its own."""
    last = 0
    while True:
        with svc.db.Session() as session:
            query = select(model).where(model.id > last).order_by(model.id).limit(size)
            if where is not None:
                query = query.where(where)
            rows = list(session.scalars(query))
            if not rows:
                return
            yield session, rows
            last = rows[-1].id
