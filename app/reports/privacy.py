"""Small-cell suppression: what an analyst sees of a count of people.

Why. Analysts get aggregates only, but an aggregate of one is a person: "1
distress case from Bomet, female, domestic worker, in Lebanon, in March" names
her to anyone who knows the village. So a count of people from 1 to 4 is shown
as ``"<5"``, and a rate made from such a count (cases per 1,000, a response
rate, SLA compliance) is shown as ``"suppressed"``, since the rate and the
other count would give the hidden one back. Zero stays: it tells about nobody.
Five is the threshold most statistics offices use for published tables of
people (Kenya's KNBS and the UK's ONS among them); it is one constant here.

Where. In every view an analyst can reach: the dashboard for the ``analyst`` role
and the API (analyst keys). Staff who can open the people themselves
(``nea_admin``, ``nea_officer``, a consular officer for their mission) see exact
counts, and so does ``kazi report`` on the server. Counts of job listings and of
agencies' register data are not about people and are never hidden.

Rows ordered by a count would still leak the order of the hidden cells (which
"<5" is a 4 and which a 1), so those rows move to the end, ordered by label.

Not covered: differencing across two filtered queries can still narrow a hidden
count; the audit log of exports is the check on that.
"""

from __future__ import annotations

from app.reports import Row
from app.reports.aggregates import Aggregate

SMALL = 5
"""Counts of people below this (and above zero) are hidden."""

HIDDEN_COUNT = "<5"
"""What a hidden count reads."""

HIDDEN_RATE = "suppressed"
"""What a rate made from a hidden count reads."""


def is_small(value: object) -> bool:
    """Tell whether a count would identify people."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL


def suppress(agg: Aggregate, rows: list[Row]) -> list[Row]:
    """Give ``rows`` as an analyst may see them: small counts and their rates hidden."""
    if not agg.counts:
        return rows
    shown: list[Row] = []
    hidden: list[Row] = []
    for row in rows:
        small = {c for c in agg.counts if is_small(row.get(c))}
        if not small:
            shown.append(row)
            continue
        out = dict(row)
        for column in small:
            out[column] = HIDDEN_COUNT
        for rate, inputs in agg.rates.items():
            if small & set(inputs) and out.get(rate) is not None:
                out[rate] = HIDDEN_RATE
        (hidden if agg.ranked else shown).append(out)
    labels = [c for c in agg.columns if c not in agg.counts and c not in agg.rates]
    hidden.sort(key=lambda r: tuple(str(r.get(c) or "") for c in labels))
    return shown + hidden
