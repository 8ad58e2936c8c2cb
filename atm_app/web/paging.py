"""Page numbers for long lists: reading `?page=` and linking to the others."""
import math
from dataclasses import dataclass, field
from typing import Callable

from flask import request


@dataclass
class Page:
    """One page of a list: its items, where it is, and how to link to another page."""

    items: list
    total: int
    number: int
    per_page: int
    link: Callable[[int], str] = field(repr=False)

    @property
    def count(self):
        """How many pages the list has (at least one, even when empty)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self):
        """The 1-based position of the first item shown."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self):
        """The 1-based position of the last item shown."""
        return self.first_index + len(self.items) - 1 if self.items else 0

    def url(self, number):
        """The address of page `number`."""
        return self.link(number)


def requested_page():
    """The page number asked for in `?page=`, 1 when absent or nonsense."""
    try:
        return max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        return 1


def last_page(total, per_page):
    """The number of the last page of `total` items."""
    return max(1, math.ceil(total / per_page))


def page_offset(number, per_page):
    """How many items come before page `number`."""
    return (number - 1) * per_page
