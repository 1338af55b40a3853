"""The floor a USSD gateway is measured against: a bare Flask app, one Redis GET + one SET.

``gunicorn -w 3 bench.baseline_app:app`` with ``REDIS_URL`` set. ``POST /ussd`` reads
the AT form, GETs and SETs a per-session key, and answers ``CON ok`` as text/plain,
so it pays for HTTP, Flask routing, form parsing and two Redis round trips, and for
nothing the gateway adds (sessions sealed with Fernet, the menu engine, SQL).
"""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify, request
from redis import Redis

app = Flask(__name__)
redis = Redis.from_url(
    os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
    socket_timeout=2, socket_connect_timeout=2,
)

SESSION_TTL = 300


@app.post("/ussd")
def ussd() -> Response:
    session_id = request.form.get("sessionId", "")
    text = request.form.get("text", "")
    key = f"bench:ussd:s:{session_id}"
    redis.get(key)
    redis.set(key, text, ex=SESSION_TTL)
    return Response("CON ok", mimetype="text/plain")


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
