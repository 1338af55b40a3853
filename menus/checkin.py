"""The check-in over SMS: 1 fine, 2 problem (then what kind), 3 danger.

``app.checkins.campaign`` sends its first screen, ``checkin.ask``, to each person
due; the person's first reply opens the dialogue there (an implied dialogue of
``app.dialogues``). A late ``2`` opens it at ``checkin.problem``. The events say
what the person answered; ``app.checkins.replies`` records the answer and opens
the case, whose reference the last screen shows.
"""

from __future__ import annotations

from menus.journey import End, Journey, Menu, Option

PROBLEMS = (
    ("checkin.cat_unpaid", "unpaid_wages"),
    ("checkin.cat_passport", "passport_held"),
    ("checkin.cat_abuse", "abuse"),
    ("checkin.cat_confined", "confinement"),
    ("checkin.cat_return", "wants_return"),
    ("checkin.cat_other", "other"),
)
"""The problem menu: (label key, case category of ``app.models.protection.CATEGORIES``)."""

JOURNEY = Journey(
    name="checkin",
    start="checkin.ask",
    screens=(
        Menu(
            "checkin.ask",
            "checkin.ask",
            save="checkin_answer",
            options=(
                Option("checkin.opt_fine", "checkin.fine", value="1"),
                Option("checkin.opt_problem", "checkin.problem", value="2",
                       emit="CheckInProblem"),
                Option("checkin.opt_danger", "checkin.danger", value="3"),
            ),
        ),
        End("checkin.fine", "checkin.fine", emit="CheckInFine"),
        Menu(
            "checkin.problem",
            "checkin.problem",
            save="checkin_category",
            options=tuple(Option(label, "checkin.reported", value=category)
                          for label, category in PROBLEMS),
        ),
        End("checkin.reported", "checkin.reported", emit="CheckInProblemReported"),
        End("checkin.danger", "checkin.danger", emit="CheckInDanger"),
    ),
    samples={"case_ref": "KSQWERTYUIOP"},
)
