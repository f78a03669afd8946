"""An issue as the rest of the pipeline sees it: a value, never an ORM object, so that the commands that
only look (`issues/glance.py`, without SQLAlchemy) and the store (`issues/store.py`) hand out the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Issue:
    """One week's issue."""

    id: int
    week: str
    subject: str
    created_at: datetime
