"""Signing in and out, and setting a password from a one-time link."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from app.console import bp
from app.extensions import services
from app.staff import throttle
from app.staff.accounts import AccountError, authenticate, set_password, user_for_token
from app.staff.audit import audit
from app.staff.login import check_csrf, current_user, login_user, logout_user, safe_next
from app.staff.roles import login_required

HOME = {
    "nea_admin": "console.inbox",
    "consular_officer": "console.inbox",
    "nea_officer": "console.agencies",
    "analyst": "analytics.index",
}
"""Where each role lands after signing in."""


@bp.get("/")
@login_required
def home():
    """Send the user to their role's first page."""
    from flask import current_app

    endpoint = HOME.get(current_user().role, "console.inbox")
    if endpoint not in current_app.view_functions:
        return render_template("home.html")
    return redirect(url_for(endpoint))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; sign in on a right email and password."""
    if request.method == "GET":
        if current_user() is not None:
            return redirect(safe_next(request.args.get("next")))
        if request.args.get("expired"):
            flash("You were signed out after 30 minutes without activity.", "error")
        return render_template("login.html", next=request.args.get("next", ""))
    check_csrf()
    email = request.form.get("email", "")
    if throttle.blocked(services().redis, request.remote_addr):
        audit("user.login_throttled", f"email:{email.strip().lower()[:100]}",
              {"address": request.remote_addr})
        flash("Too many failed sign-ins from this network. Wait "
              f"{throttle.IP_WINDOW // 60} minutes, then try again.", "error")
        return render_template("login.html", next=request.form.get("next", ""),
                               email=email), 429
    user, outcome = authenticate(email, request.form.get("password", ""))
    if user is None:
        throttle.count_failure(services().redis, request.remote_addr)
        audit("user.login_failed", f"email:{email.strip().lower()[:100]}",
              {"reason": outcome})
        flash("Email or password not accepted. After 5 failed attempts an account is "
              "locked for 15 minutes.", "error")
        return render_template("login.html", next=request.form.get("next", ""),
                               email=email), 401
    login_user(user)
    audit("user.login", f"user:{user.id}")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
@login_required
def logout():
    """End this session (and the user's others)."""
    audit("user.logout", f"user:{current_user().id}")
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("console.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password_page(token: str):
    """Set a password from a one-time link printed by ``kazi users create``."""
    svc = services()
    with svc.db.session() as db:
        user = user_for_token(db, token)
        if user is None:
            abort(404, description="This link is not valid: it was used already, it is "
                                   "more than 24 hours old, or it was mistyped.")
        if request.method == "GET":
            return render_template("set_password.html", email=user.email)
        check_csrf()
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            flash("The two passwords differ.", "error")
            return render_template("set_password.html", email=user.email), 422
        try:
            set_password(db, user, password)
        except AccountError as exc:
            flash(str(exc).capitalize() + ".", "error")
            return render_template("set_password.html", email=user.email), 422
        audit("user.set_password", f"user:{user.id}", session=db, user=user)
    flash("Your password is set. Sign in with it.")
    return redirect(url_for("console.login"))
