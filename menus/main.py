"""The entry and main menus: language once per number, then guest or member home."""

from menus.journey import Context, Journey, Menu, Option, Resume, Router, Update


def _entry(ctx: Context) -> str:
    if ctx.data.get("resume_screen"):
        return "resume.offer"
    if not ctx.state.get("lang"):
        return "lang.choose"
    return "main.home"


def _home(ctx: Context) -> str:
    return "main.member" if ctx.data.get("reg_no") else "main.guest"


# Screens a cut-off registration may resume at; the resume router may go to any.
RESUMABLE = (
    "reg.consent2", "reg.name", "reg.id", "reg.yob", "reg.gender", "reg.county",
    "reg.edu", "reg.occ", "reg.where", "reg.dest", "reg.summary",
)

JOURNEY = Journey(
    name="main",
    start="entry",
    screens=(
        Router("entry", route=_entry, routes=("resume.offer", "lang.choose", "main.home")),
        Menu(
            "lang.choose",
            "lang.choose",
            save="lang",
            options=(
                Option("lang.en", "main.home", value="en", emit="LanguageChosen"),
                Option("lang.sw", "main.home", value="sw", emit="LanguageChosen"),
            ),
        ),
        Router("main.home", route=_home, routes=("main.member", "main.guest")),
        Menu(
            "main.guest",
            "main.guest",
            options=(
                Option("main.register", "reg.consent"),
                Option("main.job_check", "job.code"),
                Option("main.agency", "agency.ask"),
                Option("main.language", "lang.choose"),
                Option("main.help", "help.start"),
                Option("main.abroad", "dep.guest"),
            ),
        ),
        Menu(
            "main.member",
            "main.member",
            options=(
                Option("main.profile", "profile.menu"),
                Option("main.job_check", "job.code"),
                Option("main.agency", "agency.ask"),
                Option("main.language", "lang.choose"),
                Option("main.help", "help.start"),
                Option("main.abroad", "dep.start"),
            ),
        ),
        Menu(
            "resume.offer",
            "resume.offer",
            options=(
                Option("resume.continue", "resume.go"),
                Option("resume.restart", "resume.restart"),
            ),
        ),
        Resume("resume.go", saved="resume", at="resume_screen", routes=RESUMABLE,
               fallback="main.home"),
        Update("resume.restart", forget=("resume", "resume_screen"), next="reg.consent"),
    ),
    samples={"reg_no": "KS12345678", "first_name": "Bartholomew-Kip"},
)
