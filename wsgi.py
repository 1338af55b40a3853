"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""

from app import create_app
from app.agencies.index import warm

app = create_app()
# Each gateway worker builds its in-memory agency register now (0.5-1 s for 5,000
# agencies), not during the first person's "Check an agency".
warm(app.extensions["kazi"].db, app.extensions["kazi"].redis)
