"""A record's lifecycle as data: the states it can be in, the state it starts in and the moves
allowed between them, each move optionally named (e.g. "submit").

Pure: it knows no database, no record and no error type of Kontor. `domain.lifecycle` applies a
declaration to a record (checks the move, sets the state, writes the trace); each kind of record
declares its lifecycle beside its model, so the allowed moves are read in one place, not pieced
together from the modules that set them.

Staying in a state is no move: it is always allowed and needs no declaration (a retried step that
finds its record already where it puts it is not refused)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    name: str | None = None  # what the business calls the move, e.g. "submit", "reject"


def move(source: str | tuple[str, ...], target: str, name: str | None = None) -> tuple[Transition, ...]:
    """The move from each of the source states into target (a convenience for declarations)."""
    sources = (source,) if isinstance(source, str) else source
    return tuple(Transition(s, target, name) for s in sources)


@dataclass(frozen=True)
class Lifecycle:
    record: str  # what its records are called in messages, e.g. "offer"
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    # the record's attribute that holds the state; None: the state follows from other data (an
    # opportunity's from its phase), and whoever moves it asks the lifecycle first
    field: str | None = "status"

    def __post_init__(self) -> None:
        if len(set(self.states)) != len(self.states):
            raise ValueError(f"{self.record}: a state is declared twice")
        if self.initial not in self.states:
            raise ValueError(f"{self.record}: the initial state {self.initial!r} is not one of its states")
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            for state in (t.source, t.target):
                if state not in self.states:
                    raise ValueError(f"{self.record}: the move {t.source} → {t.target} names an unknown state")
            if t.source == t.target:
                raise ValueError(f"{self.record}: staying in {t.source} is no move; do not declare it")
            if (t.source, t.target) in seen:
                raise ValueError(f"{self.record}: the move {t.source} → {t.target} is declared twice")
            seen.add((t.source, t.target))

    def transition(self, source: str, target: str) -> Transition | None:
        """The declared move from source to target, or None when it is not allowed."""
        return next((t for t in self.transitions if t.source == source and t.target == target), None)

    def allows(self, source: str, target: str) -> bool:
        return target in self.states and (source == target or self.transition(source, target) is not None)

    def targets(self, source: str) -> tuple[str, ...]:
        """The states a record in `source` may move to."""
        return tuple(t.target for t in self.transitions if t.source == source)

    @property
    def final_states(self) -> tuple[str, ...]:
        """States no move leaves."""
        return tuple(s for s in self.states if not self.targets(s))
