"""Acting on one returned message: read it, find whom its return address names, and do what the policy says.

Policy (issue #12): a permanent bounce suppresses the subscriber at once and marks the issue's ledger
row `bounced`; temporary ones are counted, and `[bounces] soft_limit` of them within `soft_days`
suppress too. A complaint suppresses as `complained` and marks the row `complained`. Mail to an
unsubscribe address unsubscribes. A bounced confirmation email cancels the sign-up. Auto-replies and
anything else are counted and change nothing. A token that is forged, altered or expired, or one
naming a message that was never sent, changes nothing and is logged.

The subscriber is suppressed before the ledger row is written, as the sender does, so a crash between
the two leaves nobody mailed who should not be. The message is handled once: its SHA-256 is recorded
with the outcome, and a copy or a retry of it is recognised. The raw message is kept nowhere.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.bounce_checks import RETURN_TOKEN_CHARS
from newsletter.config.settings import BouncesSettings
from newsletter.db.schema import utcnow
from newsletter.delivery import ledger
from newsletter.delivery.tables import DeliveryState
from newsletter.errors import ReturnedMailError
from newsletter.inbound import store
from newsletter.inbound.report import Report, ReportKind, ReturnPattern, read_report
from newsletter.inbound.returns import Addressee, Ending, Returns, Target
from newsletter.inbound.tables import Handling

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    """What was done with one message; `duplicate` when it had been handled before."""

    handling: Handling
    subscriber_id: int | None = None
    issue_id: int | None = None
    reason: str = ""
    duplicate: bool = False


def return_pattern(settings: BouncesSettings) -> ReturnPattern:
    return ReturnPattern(settings.domain.lower(), settings.local_part, settings.unsubscribe_local_part,
                         RETURN_TOKEN_CHARS)


class ReturnProcessor:
    """Handles returned messages for one list: `returns` is the subscriber side, `sessions` the pipeline's."""

    def __init__(self, sessions: sessionmaker[Session], returns: Returns, settings: BouncesSettings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._returns = returns
        self._settings = settings
        self._pattern = return_pattern(settings)
        self._clock = clock

    def handle(self, raw: bytes, envelope_to: Sequence[str] = ()) -> Handled:
        """Read and act on one message; whatever it holds, it never raises for what it says."""
        digest = hashlib.sha256(raw).hexdigest()
        with self._sessions() as session:
            if store.already_handled(session, digest):
                return Handled(Handling.OTHER, duplicate=True)
        report = read_report(raw, self._pattern, envelope_to)
        handled = self._act(report)
        with self._sessions.begin() as session:
            if not store.record_handling(session, digest, handled.handling, self._clock(),
                                         subscriber_id=handled.subscriber_id, issue_id=handled.issue_id,
                                         reason=handled.reason or None):
                return Handled(handled.handling, duplicate=True)
        _log(handled)
        return handled

    def _act(self, report: Report) -> Handled:
        if report.kind in (ReportKind.AUTO_REPLY, ReportKind.OTHER):
            return Handled(Handling.AUTO_REPLY if report.kind is ReportKind.AUTO_REPLY else Handling.OTHER)
        addressee, refusal = self._identify(report)
        if addressee is None:
            return Handled(Handling.REFUSED, reason=f"{report.kind}: {refusal}")
        if report.kind is ReportKind.UNSUBSCRIBE:
            return self._unsubscribe(addressee)
        if report.kind is ReportKind.COMPLAINT:
            return self._complaint(addressee, report)
        return self._bounce(addressee, report)

    def _identify(self, report: Report) -> tuple[Addressee | None, str]:
        problem = "no return address of ours in it"
        for address in report.return_addresses:
            try:
                return self._returns.identify(address), ""
            except ReturnedMailError as error:
                problem = error.reason
        return None, problem

    def _unsubscribe(self, addressee: Addressee) -> Handled:
        if addressee.target is not Target.UNSUBSCRIBE:
            return Handled(Handling.REFUSED, addressee.subscriber_id, reason="unsubscribe: not an unsubscribe address")
        self._returns.end(addressee, Ending.UNSUBSCRIBED)
        return Handled(Handling.UNSUBSCRIBED, addressee.subscriber_id)

    def _complaint(self, addressee: Addressee, report: Report) -> Handled:
        issue = addressee.issue_id
        if issue is not None and not self._was_sent(issue, addressee.subscriber_id):
            return Handled(Handling.REFUSED, addressee.subscriber_id, issue, "complaint: about a message never sent")
        self._returns.end(addressee, Ending.COMPLAINED)
        if issue is not None:
            self._late(issue, addressee.subscriber_id, DeliveryState.COMPLAINED, report.reason)
        return Handled(Handling.COMPLAINED, addressee.subscriber_id, issue, report.reason)

    def _bounce(self, addressee: Addressee, report: Report) -> Handled:
        who, issue = addressee.subscriber_id, addressee.issue_id
        if addressee.target is Target.UNSUBSCRIBE:
            return Handled(Handling.REFUSED, who, reason="bounce: sent to an unsubscribe address")
        if addressee.target is Target.CONFIRMATION:
            if not report.permanent:
                return Handled(Handling.SOFT_BOUNCE, who, reason=report.reason)
            self._returns.end(addressee, Ending.BOUNCED)
            return Handled(Handling.CANCELLED, who, reason=report.reason)
        assert issue is not None  # an issue's bounce address always names its issue
        if not self._was_sent(issue, who):
            return Handled(Handling.REFUSED, who, issue, "bounce: for a message never sent")
        if not report.permanent and not self._soft_limit_reached(who):
            return Handled(Handling.SOFT_BOUNCE, who, issue, report.reason)
        self._returns.end(addressee, Ending.BOUNCED)
        reason = report.reason if report.permanent else (
            f"{self._settings.soft_limit} temporary bounces within {self._settings.soft_days} days: {report.reason}")
        self._late(issue, who, DeliveryState.BOUNCED, reason)
        return Handled(Handling.BOUNCED if report.permanent else Handling.SOFT_BOUNCE, who, issue, reason)

    def _soft_limit_reached(self, subscriber_id: int) -> bool:
        since = self._clock() - timedelta(days=self._settings.soft_days)
        with self._sessions() as session:
            earlier = store.soft_bounces(session, subscriber_id, since)
        return earlier + 1 >= self._settings.soft_limit

    def _was_sent(self, issue_id: int, subscriber_id: int) -> bool:
        with self._sessions() as session:
            return ledger.was_sent(session, issue_id, subscriber_id)

    def _late(self, issue_id: int, subscriber_id: int, state: DeliveryState, reason: str) -> None:
        with self._sessions.begin() as session:
            ledger.record_late(session, issue_id, subscriber_id, state, reason or str(state), self._clock())


def _log(handled: Handled) -> None:
    who = f" subscriber {handled.subscriber_id}" if handled.subscriber_id is not None else ""
    issue = f" issue {handled.issue_id}" if handled.issue_id is not None else ""
    extra = {"event": "returned." + handled.handling.value, "subscriber": handled.subscriber_id,
             "issue": handled.issue_id}
    if handled.handling is Handling.REFUSED:
        log.warning("returned mail ignored:%s%s %s; nobody was changed", who, issue, handled.reason, extra=extra)
    else:
        log.info("returned mail: %s%s%s%s", handled.handling.value, who, issue,
                 f" ({handled.reason})" if handled.reason else "", extra=extra)
