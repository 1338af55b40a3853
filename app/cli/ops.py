"""``kazi reconcile`` and ``kazi seed-demo``: operator chores."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("reconcile")
@with_appcontext
def reconcile() -> None:
    """Re-enqueue the jobs SQL says are still owed (pending SMS, ...); print counts."""
    from app.extensions import services
    from app.reconcile import reconcile as run

    counts = run(services())
    if not counts:
        click.echo("nothing pending")
    for name, count in sorted(counts.items()):
        click.echo(f"{name}={count}")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load realistic demo data: a register of about 300 agencies, then other features'."""
    from app.agencies import demo
    from app.agencies.index import register_changed
    from app.extensions import services

    svc = services()
    with svc.db.session() as session:
        counts = demo.seed(session)
        extras = demo.seed_extras(session)
    register_changed(svc.redis)
    click.echo("seed-demo: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    for name, more in extras.items():
        click.echo(f"seed-demo {name}: " + " ".join(f"{k}={v}" for k, v in sorted(more.items())))


def register(app: Flask) -> None:
    app.cli.add_command(reconcile)
    app.cli.add_command(seed_demo)
