"""My profile: the registration number, language, and withdrawing consent."""

from menus.journey import Confirm, End, Journey, Menu, Option

JOURNEY = Journey(
    name="profile",
    start="profile.menu",
    screens=(
        Menu("profile.menu", "profile.menu", options=(
            Option("profile.language", "lang.choose"),
            Option("profile.withdraw_opt", "profile.withdraw"),
        )),
        Confirm("profile.withdraw", "profile.withdraw", yes="profile.withdrawn",
                no="profile.menu", emit="ConsentWithdrawn",
                yes_label="profile.withdraw_yes", no_label="profile.withdraw_no"),
        End("profile.withdrawn", "profile.withdrawn"),
    ),
    samples={"reg_no": "KS12345678"},
)
