"""Run ids on the wire: W&B's string ids, with the primary key's digits for runs that have none.

A run made with `init(id="abc-1")` is known by that id within its project; any other
run by str(pk). An explicit id of digits only would shadow another run's pk, so it is
refused unless it is that same run's pk (see runs.resume).
"""

from __future__ import annotations

import re

from django.db.models import Q

# W&B's own ids are 8 base-36 characters; users pass their own of up to 64.
RUN_ID_PATTERN = "[A-Za-z0-9_-]{1,64}"
RUN_ID_RE = re.compile(rf"\A{RUN_ID_PATTERN}\Z")
# A pk of more digits would overflow PostgreSQL's bigint in the lookup.
MAX_PK_DIGITS = 18


class RunIdConverter:
    """URL converter for run ids: pk digits or an explicit id, kept as a string."""

    regex = RUN_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


def is_pk_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def explicit_id_problem(value: str) -> str | None:
    """Why `value` cannot be an explicit run id, or None when it can."""
    if not RUN_ID_RE.match(value):
        return "must be 1 to 64 characters, each a letter, digit, '_' or '-'"
    return None


def run_id_q(value: str) -> Q:
    """The runs a URL's run id names: by pk when it is digits, else by explicit id.

    Digits too long for a pk match nothing (explicit ids are never all digits)."""
    if is_pk_digits(value):
        return Q(pk=int(value)) if len(value) <= MAX_PK_DIGITS else Q(pk__in=[])
    return Q(explicit_id=value)
