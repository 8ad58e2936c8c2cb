"""Signing in and out: `/`, `/login`, `/logout`, `/confirm-password`, `/dashboard`."""
from flask import flash, redirect, render_template, request, url_for
from flask_jwt_extended import current_user, get_jwt
from flask_jwt_extended.exceptions import CSRFError as DoubleSubmitError
from flask_wtf.csrf import CSRFError as SignInFormError

from .. import audit
from ..auth.login import INVALID_CREDENTIALS, authenticate
from ..auth.sessions import end_session, find_live_session, start_session
from ..errors import render_error_page
from . import bp, guards
from .cookies import clear_sign_in, page_state, write_sign_in
from .forms import LoginForm
from .guards import action, confirm_page, page
from .next_url import safe_next

SIGNED_OUT = "You have signed out."
FORM_REFUSED = "This form was not accepted: it has expired or did not come from this site."


def signed_in():
    """Whether the cookies of this request sign someone in (after any renewal)."""
    return page_state().access_claims is not None


def home_url():
    """Where a signed-in user starts."""
    return url_for("web.dashboard")


@bp.get("/")
def index():
    """The dashboard when signed in, else the sign-in page."""
    return redirect(home_url() if signed_in() else url_for("web.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; on success the JWTs go into httpOnly cookies."""
    next_path = safe_next(request.args.get("next"))
    if request.method == "GET" and signed_in():
        return redirect(next_path or home_url())
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        # Past a brute-force limit this raises 429, rendered as the 429 page.
        user = authenticate(form.username.data, form.password.data)
        if user is not None:
            response = redirect(next_path or home_url(), 303)
            return write_sign_in(response, start_session(user))
        error, status = INVALID_CREDENTIALS, 401
    elif request.method == "POST":
        status = 400
    return render_template("sign_in/login.html", form=form, error=error, next_path=next_path), status


@bp.post("/logout")
@action()
def logout():
    """End this session: both tokens stop working, the cookies go."""
    session = find_live_session(current_user, get_jwt()["sid"])
    if session is not None:
        end_session(session, "logout")
    audit.record("logout", user=current_user)
    flash(SIGNED_OUT, "success")
    return clear_sign_in(redirect(url_for("web.login"), 303))


@bp.route("/confirm-password", methods=["GET", "POST"])
@action()
def confirm_password():
    """Ask for the password again, make the sign-in fresh, and go on to `next`."""
    next_path = safe_next(request.values.get("next")) or home_url()
    hidden = [("next", next_path)]
    if request.method == "GET":
        return confirm_page(url_for("web.confirm_password"), hidden)
    if not guards.confirm_password(request.form.get(guards.REAUTH_FIELD)):
        page = confirm_page(url_for("web.confirm_password"), hidden, error=guards.WRONG_PASSWORD)
        return page, 401
    return redirect(next_path, 303)


@bp.get("/dashboard")
@page()
def dashboard():
    """Each role has its own dashboard."""
    return redirect(url_for(f"web.dashboard_{current_user.role}"))


@bp.errorhandler(DoubleSubmitError)
@bp.errorhandler(SignInFormError)
def refused_form(error):
    """A form post without its CSRF token (either kind): the 400 page, never a sign-in redirect."""
    return render_error_page(400, FORM_REFUSED)
