"""Which channels a preference set chooses for one kind of event: pure functions, no database.

A preference names an exact kind (`case.transferred`) or a family ending with a dot (`case.`,
`case.sla.`). The most specific one wins: the exact kind, then the longest family. Without any: both
channels on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = r"[a-z][a-z0-9_]*"
EVENT_NAME = re.compile(rf"{_WORD}(\.{_WORD})+")  # case.transferred
FAMILY = re.compile(rf"({_WORD}\.)+")  # case. or case.sla.


@dataclass(frozen=True)
class Channels:
    in_app: bool = True
    email: bool = True


DEFAULT = Channels()


def is_valid_kind(kind: str) -> bool:
    """An event name (`case.transferred`) or a family ending with a dot (`case.`, `case.sla.`)."""
    return len(kind) <= 100 and bool(EVENT_NAME.fullmatch(kind) or FAMILY.fullmatch(kind))


def candidate_kinds(kind: str) -> list[str]:
    """Every preference kind that could apply to events named `kind`, most specific first."""
    parts = kind.split(".")
    return [kind] + [".".join(parts[:n]) + "." for n in range(len(parts) - 1, 0, -1)]


def resolve(preferences: Iterable[tuple[str, bool, bool]], kind: str) -> Channels:
    """The channels for an event named `kind`, given one user's (kind, in_app, email) preferences."""
    by_kind = {k: Channels(in_app=a, email=e) for k, a, e in preferences}
    for candidate in candidate_kinds(kind):
        if candidate in by_kind:
            return by_kind[candidate]
    return DEFAULT
