"""What a maintenance request may send: marshmallow schemas for bodies and queries.

`load(schema, data)` answers a refusal with the contract's envelope: 400 and
`errors` per field (unknown fields included). Texts are trimmed and never
blank; JSON types are strict (no `"5"` for 5, no `true` for 1).
"""
import functools
import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..errors import Refused
from ..models import KINDS, MAX_ROW_ID, PRIORITIES, STATUSES

REQUIRED = "This field is required."
# \Z, not $: `$` also matches before a final newline.
TERMINAL_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,32}\Z",
                              error="Use 1 to 32 letters, digits, - and _ only.")


class Text(fields.String):
    """A string, trimmed; one line unless `lines` (then line breaks and tabs too)."""

    default_error_messages = {"required": REQUIRED, "null": "This field may not be null.",
                              "invalid": "Must be a string."}

    def __init__(self, max_length, min_length=1, lines=False, **kwargs):
        self.min_length = min_length
        self.lines = lines
        length = validate.Length(min=min_length, max=max_length,
                                 error=f"Use {min_length} to {max_length} characters.")
        super().__init__(validate=length, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.min_length > 0:
            raise ValidationError("This field may not be blank.")
        allowed = "\n\r\t" if self.lines else ""
        if any(not char.isprintable() and char not in allowed for char in text):
            raise ValidationError("Use printable characters only.")
        return text


class Integer(fields.Integer):
    """A JSON integer (never a string, float or boolean)."""

    default_error_messages = {"required": REQUIRED, "null": "This field may not be null.",
                              "invalid": "Must be a whole number."}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class RowId(Integer):
    """The id of a row: a positive integer a column can hold."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(1, MAX_ROW_ID, error="No such id."), **kwargs)


class Boolean(fields.Boolean):
    """A JSON true or false."""

    default_error_messages = {"required": REQUIRED, "null": "This field may not be null.",
                              "invalid": "Must be true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def one_of(choices):
    """A text that must be one of `choices`."""
    return fields.String(validate=validate.OneOf(choices, error=f"Choose one of: {', '.join(choices)}."),
                         error_messages={"required": REQUIRED, "invalid": "Must be a string."})


class Body(Schema):
    """A request body: unknown fields are refused."""

    class Meta:
        unknown = "raise"


class AtmCreate(Body):
    terminal_id = fields.String(required=True, validate=TERMINAL_ID,
                                error_messages={"required": REQUIRED, "invalid": "Must be a string."})
    city = Text(100, required=True)
    address = Text(255, required=True)
    model = Text(100, allow_none=True)
    pm_interval_days = Integer(validate=validate.Range(1, 3650, error="Use 1 to 3650 days."))
    is_active = Boolean()


class Unchangeable(fields.Field):
    """A field a change may not name."""

    def _deserialize(self, value, attr, data, **kwargs):
        raise ValidationError("This never changes once set.")


class AtmChange(Body):
    city = Text(100)
    address = Text(255)
    model = Text(100, allow_none=True)
    pm_interval_days = Integer(validate=validate.Range(1, 3650, error="Use 1 to 3650 days."))
    is_active = Boolean()
    terminal_id = Unchangeable()


class AtmRow(Body):
    """One line of a fleet CSV (importer.py): every value arrives as text."""

    terminal_id = fields.String(required=True, validate=TERMINAL_ID,
                                error_messages={"required": REQUIRED})
    city = Text(100, required=True)
    address = Text(255, required=True)
    model = Text(100, min_length=0)
    pm_interval_days = fields.Integer(validate=validate.Range(1, 3650, error="Use 1 to 3650 days."),
                                      error_messages={"invalid": "Use a whole number of days."})


class TicketCreate(Body):
    atm_id = RowId()
    terminal_id = fields.String(validate=TERMINAL_ID, error_messages={"invalid": "Must be a string."})
    title = Text(200, required=True)
    description = Text(5000, lines=True, allow_none=True)
    priority = one_of(PRIORITIES)
    kind = one_of(KINDS)
    out_of_service = Boolean()

    @validates_schema
    def names_one_atm(self, data, **kwargs):
        if "atm_id" not in data and "terminal_id" not in data:
            raise ValidationError("Give atm_id or terminal_id.", "atm_id")
        if data.get("kind") == "preventive" and data.get("out_of_service"):
            raise ValidationError("Only a fault puts an ATM out of service.", "out_of_service")


class TicketChange(Body):
    title = Text(200)
    description = Text(5000, lines=True, allow_none=True)
    priority = one_of(PRIORITIES)
    out_of_service = Boolean()


class Note(Body):
    text = Text(2000, required=True, lines=True)


# The body of each action: the one field it requires, if any (actions.py).
ACTION_FIELDS = {
    "assignee_id": RowId,
    "reason": lambda **kwargs: Text(1000, lines=True, **kwargs),
    "resolution": lambda **kwargs: Text(1000, lines=True, **kwargs),
}


ACTION_BODIES = {
    name: Body.from_dict({name: field(required=True)}, name=f"{name}Body")()
    for name, field in ACTION_FIELDS.items()
}
ACTION_BODIES[None] = Body()


def action_body(field_name):
    """The schema of an action's body: its required field, or nothing at all."""
    return ACTION_BODIES[field_name]


class CommaList(fields.String):
    """A query value `a,b,c` whose items are each one of `choices`.

    The items come back once each, in the order of `choices`: the same set
    is then the same SQL, which SQLite needs to see that a partial index
    (the unresolved tickets', models.Ticket) covers it.
    """

    def __init__(self, choices, **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        items = [item.strip() for item in super()._deserialize(value, attr, data, **kwargs).split(",")]
        wrong = [item for item in items if item not in self.choices]
        if wrong:
            raise ValidationError(f"Unknown {', '.join(wrong)}; choose from {', '.join(self.choices)}.")
        return [choice for choice in self.choices if choice in items]


def query_boolean():
    """A query value true/false (1/0)."""
    return fields.Boolean(truthy={"true", "1"}, falsy={"false", "0"},
                          error_messages={"invalid": "Use true or false."})


class Query(Schema):
    """A list's query: unknown parameters are ignored, as scripts expect."""

    class Meta:
        unknown = "exclude"

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200, error="Use 1 to 200."),
                           error_messages={"invalid": "Use a whole number from 1 to 200."})
    cursor = fields.String(validate=validate.Length(max=512))


class AtmQuery(Query):
    city = fields.String(validate=validate.Length(max=100))
    q = fields.String(validate=validate.Length(max=100))
    down = query_boolean()
    is_active = query_boolean()


class TicketQuery(Query):
    status = CommaList(STATUSES)
    priority = CommaList(PRIORITIES)
    kind = one_of(KINDS)
    city = fields.String(validate=validate.Length(max=100))
    atm_id = fields.Integer(validate=validate.Range(1, MAX_ROW_ID, error="No such id."),
                            error_messages={"invalid": "Use a whole number."})
    assignee_id = fields.Integer(validate=validate.Range(1, MAX_ROW_ID, error="No such id."),
                                 error_messages={"invalid": "Use a whole number."})
    overdue = query_boolean()
    q = fields.String(validate=validate.Length(max=200))
    sort = fields.String(load_default="created",
                         validate=validate.OneOf(("created", "due"), error="Use created or due."))


class Day(fields.Field):
    """A calendar day written YYYY-MM-DD."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValidationError("Use a date as YYYY-MM-DD.")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError("No such date.") from None


class KpiQuery(Schema):
    class Meta:
        unknown = "exclude"

    from_ = Day(data_key="from")
    to = Day()
    city = fields.String(validate=validate.Length(max=100))


@functools.cache
def instance(schema_class):
    """One instance of each schema class, made once: making one copies every
    field, which cost a list request as much as checking its query. Loading
    does not change an instance, so every request shares it."""
    return schema_class()


def load(schema, data):
    """`data` checked by `schema` (a class or instance); 400 with every field's problems.

    A query value holding NUL is refused here (bodies are refused earlier,
    validation.json_object): no field holds one, and PostgreSQL refuses it.
    """
    with_nul = {name: ["Text may not contain NUL characters."] for name, value in data.items()
                if isinstance(value, str) and "\x00" in value}
    if with_nul:
        raise Refused(400, "Some fields are missing or invalid.", with_nul)
    try:
        return (instance(schema) if isinstance(schema, type) else schema).load(data)
    except ValidationError as error:
        raise Refused(400, "Some fields are missing or invalid.", field_errors(error.messages)) from None


def field_errors(messages):
    """marshmallow's messages as the envelope's {field: [sentences]}."""
    errors = {}
    for name, found in messages.items():
        field = "non_field_errors" if name == "_schema" else name
        if isinstance(found, dict):  # a nested value: flatten to sentences
            found = [text for texts in found.values() for text in texts]
        errors[field] = [str(text) for text in found]
    return errors
