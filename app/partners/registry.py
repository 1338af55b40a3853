"""Register partners (``kazi partners add``) and find them when they post."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto import PiiCipher
from app.models.partner import PARTNER_KINDS, Partner
from app.partners.signing import new_secret


def add_partner(session: Session, cipher: PiiCipher, name: str, kind: str
                ) -> tuple[Partner, str]:
    """Register a partner; give it with its secret, the only time the secret is shown.

    The secret is stored encrypted (not hashed): checking an HMAC needs it in clear.
    """
    name = (name or "").strip()
    if not name:
        raise ValueError("a partner needs a name")
    if kind not in PARTNER_KINDS:
        raise ValueError(f"kind must be one of: {', '.join(PARTNER_KINDS)}")
    secret = new_secret()
    partner = Partner(name=name[:120], kind=kind, secret_enc=cipher.encrypt(secret), active=True)
    session.add(partner)
    session.flush()
    return partner, secret


def active_partner(session: Session, partner_id: int) -> Partner | None:
    """Give the active partner with this id, or None."""
    return session.scalar(select(Partner).where(Partner.id == partner_id,
                                                Partner.active.is_(True)))


def list_partners(session: Session) -> list[Partner]:
    """Give every partner, oldest first."""
    return list(session.scalars(select(Partner).order_by(Partner.id)))
