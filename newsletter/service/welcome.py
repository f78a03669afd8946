"""The welcome mail: the latest issue that was sent, for a reader who has just confirmed.

The subscriber side's outbox worker sends it (queued in the confirmation's own transaction, retried like
a confirmation email) but may not import the pipeline; this composition-root piece, handed to the
worker, makes the message: the issue as every reader got it, personalised for this reader (their own
unsubscribe and manage links, their bounce address), with the issue's Message-ID for them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from newsletter.config.settings import Config
from newsletter.delivery import ledger
from newsletter.delivery.tables import DeliveryState
from newsletter.delivery.transports.base import Outgoing
from newsletter.issues import life
from newsletter.issues import store as issues
from newsletter.issues.issue import Issue
from newsletter.issues.prepare import PreparedIssue, prepare
from newsletter.issues.tables import IssueState
from newsletter.mail.dkim import DkimSigner
from newsletter.weeks import IsoWeek
from subscribers.recipients import SubscriberRecipients

LOOK_BACK = 10  # issues looked at, newest first, for the latest one sent


class WelcomeIssue:
    """Makes a new reader's copy of the latest sent issue (call it from a thread: it reads the database)."""

    def __init__(self, config: Config, sessions: sessionmaker[Session], recipients: SubscriberRecipients) -> None:
        self.config = config
        self.sessions = sessions
        self.recipients = recipients
        self.signer = DkimSigner.from_config(config)
        self._rendered: dict[int, PreparedIssue] = {}  # rendered once per issue, never per reader

    def __call__(self, subscriber_id: int) -> Outgoing | None:
        """The message for `subscriber_id`, or None: no issue was sent yet, or they are not confirmed now."""
        with self.sessions() as session:
            issue = latest_sent(session)
            if issue is not None and issue.id not in self._rendered:
                made = prepare(self.config, session, IsoWeek.parse(issue.week))
                if isinstance(made, PreparedIssue):
                    self._rendered = {issue.id: made}
        prepared = None if issue is None else self._rendered.get(issue.id)
        if issue is None or prepared is None:
            return None
        person = self.recipients.for_issue(issue.id).lookup([subscriber_id]).get(subscriber_id)
        if person is None:
            return None
        data = prepared.template.personalise(person)
        if self.signer is not None:
            data = self.signer.sign(data)
        return Outgoing(person.envelope_sender or self.config.newsletter.from_address, person.address, data,
                        prepared.template.message_id(subscriber_id), dot_stuffed=True)


def latest_sent(session: Session) -> Issue | None:
    """The newest issue whose send is over (or, made before issues had states, that reached someone)."""
    for issue in issues.latest(session, LOOK_BACK):
        status = life.current(session, IsoWeek.parse(issue.week))
        if status is not None and status.state is IssueState.SENT:
            return issue
        if status is None and ledger.counts(session, issue.id)[DeliveryState.SENT]:
            return issue
    return None
