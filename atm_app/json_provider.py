"""JSON responses written by orjson, the way Flask's own provider writes them.

A page of tickets is a few hundred keys; the standard library's encoder
spent as long writing them as the ticket rows took to read. orjson writes
the same JSON: keys sorted, no spaces, dates and every type it does not know
(decimals, for one) handed to Flask's provider's own `default`.
Only its text differs for characters beyond ASCII, written as UTF-8 instead
of `\\u` escapes, which every JSON reader takes as the same string. Request
bodies are still read by Flask's provider.
"""
import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson writing the responses."""

    def dumps(self, obj, **kwargs):
        options = OPTIONS | (orjson.OPT_INDENT_2 if kwargs.get("indent") else 0)
        return orjson.dumps(obj, default=self.default, option=options).decode()
