"""USSD/SMS menu journeys and the pure engine that walks them.

Each journey is one file of declarative screens. ``build_flow`` merges them
into one graph. The app checks that graph against the locales when it loads it
(``app.extensions.checked_flow``: no I/O here), and so does ``kazi menus check``.
"""

from menus import (
    agency,
    checkin,
    departure,
    help,
    help_sms,
    job_check,
    main,
    migrant_sms,
    no_news,
    profile,
    registration,
)
from menus.journey import Flow

JOURNEYS = (main.JOURNEY, registration.JOURNEY, profile.JOURNEY, job_check.JOURNEY,
            agency.JOURNEY, checkin.JOURNEY, help.JOURNEY, help_sms.JOURNEY, departure.JOURNEY,
            no_news.JOURNEY, migrant_sms.JOURNEY)
"""Every journey the USSD service offers, in menu order."""

SMS_ENTRIES = ("checkin.ask", "checkin.problem", *help_sms.ENTRIES, "mj.employer", "mr.date")
"""Screens only SMS dialogues start at (no USSD menu links them); each feature adds its own."""


def build_flow(max_chars: int = 160) -> Flow:
    """Merge every journey into one flow that starts at ``entry``."""
    return Flow(JOURNEYS, home="main.home", entry="entry", max_chars=max_chars,
                sms_entries=SMS_ENTRIES)
