"""app/features.py: the one place features are wired, and registries that refuse to guess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from app import dialogues, events, features, keywords, ports, reports


def modules(entries) -> set[str]:
    return {entry.__module__ for entry in entries}


def names(listed) -> set[str]:
    return {module.__name__ for module in listed}


def test_each_registry_is_filled_by_exactly_the_modules_features_lists() -> None:
    # A module missing from its tuple (or listed for nothing) would make the contents
    # page lie to the next reader; the imports would still work.
    assert modules(events._HANDLERS.values()) == names(features.EVENT_HANDLERS)
    assert modules(ports._PORTS.values()) == names(features.PORTS)
    assert modules(keywords._registry.values()) == names(features.KEYWORDS)
    assert modules(dialogues._openers) == names(features.IMPLIED_DIALOGUES)
    assert modules(r.run for r in reports.reports().values()) == names(features.REPORTS)


def test_every_registry_answers_once_features_are_wired() -> None:
    assert "RegistrationCompleted" in events.known()
    assert keywords.route("STOP") == (keywords.stop, "")
    assert {"clusters", "irregular", "stock"} <= set(reports.reports())


def test_a_registry_read_before_the_features_are_wired_raises() -> None:
    # A fresh interpreter: in this one, app.features is already imported.
    script = textwrap.dedent("""
        from app import dialogues, events, keywords, ports, reports

        readers = {
            "events": events.known,
            "keywords": lambda: keywords.route("STOP"),
            "ports": lambda: ports.Ports(None),
            "reports": reports.reports,
            "dialogues": lambda: dialogues._implied(None, None, "+254712345678"),
        }
        for name, read in readers.items():
            try:
                read()
            except RuntimeError as exc:
                assert "app.features" in str(exc), exc
            else:
                raise SystemExit(f"{name} answered before the features were wired")
        import app.features  # noqa: F401
        assert keywords.route("STOP")[0] is keywords.stop
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_job_run_outside_the_app_is_wired_by_workers_services(config) -> None:
    # A bare ``rq worker`` has no app context: services() builds the app, and with it
    # every registration, before a job reads a registry.
    script = textwrap.dedent("""
        from app import keywords
        from workers import services

        services()
        assert keywords.route("STOP")[0] is keywords.stop
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AT_", "KAZI_"))}
    env.update(DATABASE_URL=config["DATABASE_URL"], REDIS_URL=config["REDIS_URL"],
               PII_KEYS=config["PII_KEYS"], SECRET_KEY=config["SECRET_KEY"])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
