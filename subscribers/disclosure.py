"""What is kept about one subscriber, told two ways: a JSON document to download, and lines in plain words.

Both come from the same `Kept` record, so the page and the file can never tell different stories. The
address is opened only into these answers; nothing here is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from newsletter.translations import N_
from subscribers.consent_events import paused_weeks
from subscribers.store import Kept
from subscribers.tables import Status

STATUS_WORDS = {
    Status.PENDING: N_("signed up, not yet confirmed"),
    Status.CONFIRMED: N_("subscribed"),
    Status.UNSUBSCRIBED: N_("unsubscribed"),
    Status.BOUNCED: N_("stopped: mail to this address was refused"),
    Status.COMPLAINED: N_("stopped: an issue was reported as spam from this address"),
}
ACTION_WORDS = {"paused": N_("Paused"), "resumed": N_("Started again"), "unsubscribed": N_("Unsubscribed"),
                "change-asked": N_("Asked for a new address"), "address-changed": N_("Address changed"),
                "confirmed": N_("Confirmed"), "bounced": N_("Stopped: mail was refused"),
                "complained": N_("Stopped: reported as spam")}


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


class Wording(Protocol):
    """How the page puts things in the readers' language (`Pages` does it)."""

    def words(self, text: str, **values: object) -> str: ...
    def moment(self, when: datetime) -> str: ...
    def weeks(self, count: int) -> str: ...


def in_words(kept: Kept, wording: Wording) -> list[tuple[str, str]]:
    """(label, value) lines for the page, in the readers' language."""
    say, moment = wording.words, wording.moment
    lines = [(say(N_("Email address")), kept.address or say(N_(
                "deleted: only a one-way fingerprint is kept, so that it is never written to again"))),
             (say(N_("Status")), say(STATUS_WORDS[kept.status]))]
    if kept.new_address is not None:
        lines.append((say(N_("New address, waiting for its confirmation")), kept.new_address))
    if kept.paused_until is not None:
        lines.append((say(N_("Paused until")), moment(kept.paused_until)))
    lines.append((say(N_("Signed up")), moment(kept.signed_up_at)))
    if kept.confirmed_at is not None:
        lines.append((say(N_("Confirmed")), moment(kept.confirmed_at)))
    # The form's name and version are identifiers: left-to-right isolates keep them whole in a
    # right-to-left sentence (U+2066 ... U+2069, invisible in a left-to-right one).
    consent = say(N_("through “%(form)s”, form text version %(version)s"), form=f"\u2066{kept.consent_form}\u2069",
                  version=f"\u2066{kept.consent_text_version}\u2069")
    if kept.consent_note:
        consent = say(N_("%(consent)s; note: %(note)s"), consent=consent, note=kept.consent_note)
    lines.append((say(N_("Consent")), consent))
    for event in kept.events:
        action = ACTION_WORDS.get(event.action)
        detail = _detail(event.detail, wording) if event.detail else ""
        lines.append((say(action) if action else event.action.capitalize(),
                      moment(event.at) + (f" ({detail})" if detail else "")))
    return lines


def _detail(stored: str, wording: Wording) -> str:
    """An event's stored (English) detail in the readers' language; one the catalog lacks as it is."""
    weeks = paused_weeks(stored)
    return wording.weeks(weeks) if weeks is not None else wording.words(stored)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
