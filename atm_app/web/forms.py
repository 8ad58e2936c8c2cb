"""The page forms. They carry and render fields; the rules live in the services.

Only `LoginForm` uses Flask-WTF's CSRF token: the visitor is not signed in
yet, so there is no access token to bind a double-submit value to. Every other
form belongs to a signed-in user and is protected by the JWT double-submit
check instead (guards.py), so its Flask-WTF token is switched off.
"""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from ..models import ROLES

ROLE_LABELS = {"host": "Data host", "technician": "Technician", "supervisor": "Supervisor"}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


class LoginForm(FlaskForm):
    """Sign in: username, password and Flask-WTF's hidden `csrf_token`."""

    username = StringField("Username", validators=[InputRequired("Enter your username.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])


class SignedInForm(FlaskForm):
    """A form of a signed-in user: CSRF is the JWT double-submit value, not Flask-WTF's."""

    class Meta:
        csrf = False


class ChangePasswordForm(SignedInForm):
    """Change one's own password."""

    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")])
    new_password = PasswordField(
        "New password", validators=[InputRequired("Enter a new password.")])
    confirm_password = PasswordField(
        "Repeat the new password", validators=[InputRequired("Repeat the new password.")])


class NewUserForm(SignedInForm):
    """A host creates a user."""

    username = StringField("Username", validators=[InputRequired("Enter a username.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default="technician")
    city = StringField("City")
    password = PasswordField("Password", validators=[InputRequired("Enter a password.")])


class UserDetailsForm(SignedInForm):
    """A host changes a user's role or city."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    city = StringField("City")


class SetPasswordForm(SignedInForm):
    """A host sets a new password for a user."""

    password = PasswordField("New password", validators=[InputRequired("Enter a new password.")])


def add_errors(form, errors, rename=None):
    """Show a service's per-field errors beside the form's fields."""
    rename = rename or {}
    for field_name, messages in errors.items():
        field = getattr(form, rename.get(field_name, field_name), None)
        if field is not None:
            field.errors = list(field.errors) + list(messages)


# --- maintenance ---------------------------------------------------------------
# Text fields only: the values go through the same marshmallow schemas as the
# API (maintenance/schemas.py, via `web.maintenance_forms.body_of`), whose
# messages are shown beside these fields.

PRIORITY_CHOICES = [SelectChoice("normal", "Normal"), SelectChoice("critical", "Critical"),
                    SelectChoice("high", "High"), SelectChoice("low", "Low")]
KIND_CHOICES = [SelectChoice("fault", "Fault"), SelectChoice("preventive", "Preventive maintenance")]


class TicketForm(SignedInForm):
    """Raise a ticket."""

    terminal_id = StringField("ATM terminal id")
    title = StringField("What is wrong")
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, default="normal")
    kind = SelectField("Kind", choices=KIND_CHOICES, default="fault")
    description = TextAreaField("Details")
    out_of_service = BooleanField("The ATM is out of service")


class AtmForm(SignedInForm):
    """Add or change an ATM."""

    terminal_id = StringField("Terminal id")
    city = StringField("City")
    address = StringField("Address")
    model = StringField("Model")
    pm_interval_days = StringField("Preventive visit every (days)", default="90")


class ImportForm(SignedInForm):
    """Upload a fleet CSV."""

    file = FileField("CSV file")
