"""What is kept about one subscriber, told two ways: a JSON document to download, and lines in plain words.

Both come from the same `Kept` record, so the page and the file can never tell different stories. The
address is opened only into these answers; nothing here is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from subscribers.store import Kept
from subscribers.tables import Status

STATUS_WORDS = {
    Status.PENDING: "signed up, not yet confirmed",
    Status.CONFIRMED: "subscribed",
    Status.UNSUBSCRIBED: "unsubscribed",
    Status.BOUNCED: "stopped: mail to this address was refused",
}
ACTION_WORDS = {"paused": "Paused", "resumed": "Started again", "unsubscribed": "Unsubscribed",
                "change-asked": "Asked for a new address", "address-changed": "Address changed"}


def as_document(kept: Kept, newsletter: str, issues: Sequence[dict[str, str | None]] = ()) -> dict[str, Any]:
    """Everything stored for the subscriber, as a JSON-ready mapping (times in ISO 8601, UTC); `issues`
    are the ledger's rows of them: which issue, its outcome, when."""
    return {
        "newsletter": newsletter,
        "address": kept.address,
        "new_address_waiting_for_confirmation": kept.new_address,
        "status": str(kept.status),
        "paused_until": _iso(kept.paused_until),
        "consent": {"form": kept.consent_form, "form_text_version": kept.consent_text_version,
                    "note": kept.consent_note, "given_at": _iso(kept.consent_at)},
        "signed_up_at": _iso(kept.signed_up_at),
        "confirmed_at": _iso(kept.confirmed_at),
        "unsubscribed_at": _iso(kept.unsubscribed_at),
        "bounced_at": _iso(kept.bounced_at),
        "record_created_at": _iso(kept.created_at),
        "record_updated_at": _iso(kept.updated_at),
        "history": [{"action": event.action, "detail": event.detail, "at": _iso(event.at)}
                    for event in kept.events],
        "issues": list(issues),
        "not_kept": "no name, no IP address, no browser details, no record of opens or clicks",
    }


def in_words(kept: Kept) -> list[tuple[str, str]]:
    """(label, value) lines for the page."""
    lines = [("Email address", kept.address or "deleted: only a one-way fingerprint is kept, so that it "
                                              "is never written to again"),
             ("Status", STATUS_WORDS[kept.status])]
    if kept.new_address is not None:
        lines.append(("New address, waiting for its confirmation", kept.new_address))
    if kept.paused_until is not None:
        lines.append(("Paused until", when(kept.paused_until)))
    lines.append(("Signed up", when(kept.signed_up_at)))
    if kept.confirmed_at is not None:
        lines.append(("Confirmed", when(kept.confirmed_at)))
    consent = f"through “{kept.consent_form}”, form text version {kept.consent_text_version}"
    lines.append(("Consent", consent + (f"; note: {kept.consent_note}" if kept.consent_note else "")))
    for event in kept.events:
        words = ACTION_WORDS.get(event.action, event.action.capitalize())
        lines.append((words, when(event.at) + (f" ({event.detail})" if event.detail else "")))
    return lines


def when(moment: datetime) -> str:
    """A moment in words: "4 December 2026, 14:05 UTC"."""
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
