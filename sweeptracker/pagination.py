"""The one pagination of every API list: limit and offset, with a cap."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination


class CappedLimitOffsetPagination(LimitOffsetPagination):
    # Without a cap, a huge ?limit= overflows the database's LIMIT (a 500 on SQLite).
    max_limit = 1_000
