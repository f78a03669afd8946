"""One exception family for the pipeline; the CLI maps each to a message and an exit code."""

from __future__ import annotations


class NewsletterError(Exception):
    """Base of every error the pipeline raises on purpose; its message is fit to show a user."""

    exit_code = 1


class ConfigError(NewsletterError):
    """A setting is missing, malformed or out of range."""

    exit_code = 2

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"config: {key} {problem}")


class DatabaseError(NewsletterError):
    """The database cannot be reached, or is not at the schema this version needs."""


class OutputError(NewsletterError):
    """A file or folder a command writes (a preview) cannot be written."""

    def __init__(self, path: str, reason: str, advice: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot write {path} ({reason}): {advice}")


class DatabaseUnavailable(DatabaseError):
    """The database stayed locked, full or unreachable for longer than the caller waits for it."""

    def __init__(self, doing: str, waited: float, problem: str) -> None:
        self.doing = doing
        self.waited = waited
        self.problem = problem
        super().__init__(f"the database did not answer for {waited:g} s while {doing} ({problem})")


class SourceError(NewsletterError):
    """One ingest source could not be read or parsed."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class WeekError(NewsletterError):
    """A week was not given as YYYY-Www."""

    exit_code = 2


class TemplateError(NewsletterError):
    """A template is missing or broken; the message names the template and line."""


class DeliveryError(NewsletterError):
    """A message was not accepted. `permanent` says whether trying again can help.

    `recipient` is always redacted (j***@example.org); `code` is the SMTP reply code, 0 when there was none.
    """

    permanent = False

    def __init__(self, reason: str, *, code: int = 0, recipient: str = "") -> None:
        self.reason = reason
        self.code = code
        self.recipient = recipient
        where = f" for {recipient}" if recipient else ""
        super().__init__(f"delivery failed{where}: {reason}" + (f" (SMTP {code})" if code else ""))


class TemporaryFailure(DeliveryError):
    """4xx replies, dropped connections, time-outs: try again later."""


class SessionFailure(TemporaryFailure):
    """The server or our session failed before the recipient was named (connect, greeting, TLS, login,
    MAIL FROM): it says nothing about the recipient, so it is never a bounce, whatever the code."""


class RelayRefusal(SessionFailure):
    """The relay refuses to send for us (relaying denied, authentication required or failed, the sender's
    policy): every message would meet the same answer, so the send stops, and as it says nothing about the
    recipient nobody is bounced."""


class PermanentFailure(DeliveryError):
    """5xx replies: the recipient will not accept this message."""

    permanent = True


class SendStopped(NewsletterError):
    """A send stopped before its end for a reason every message shares (a relay refusing us, a run of
    refusals, the database gone); the rows not done are left for a later run. `reason` says why and
    what to check, in one line."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ReturnedMailError(NewsletterError):
    """Mail that came back (a bounce, a complaint, an unsubscribe) cannot be acted on: its return address
    is forged, damaged, expired or not one of ours, or the message is not one we can read.

    `reason` never holds an address: it says what was wrong with the token or the message.
    """

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        self.reason = reason
        self.expired = expired
        super().__init__(reason)


class MailboxError(NewsletterError):
    """The IMAP mailbox of returned mail could not be reached, logged into or read; what was handled of it
    was moved, the rest stays for the next poll."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"IMAP mailbox: {problem}; check [bounces] imap_host, imap_port, imap_security, "
                         "imap_username and NEWSLETTER_BOUNCES_IMAP_PASSWORD")


class IssueStateError(NewsletterError):
    """An issue cannot make the move asked of it from where it is (approve a cancelled issue, pause a sent
    one), or cannot be sent in that state; nothing was changed. `state` is where it is."""

    def __init__(self, week: str, state: str, problem: str) -> None:
        self.week = week
        self.state = state
        self.problem = problem
        super().__init__(problem)


class EditError(NewsletterError):
    """An editor's choice cannot be taken (an excerpt of another week, a note with markup that is not
    allowed, a change after the send started); nothing was changed."""


class SendPaused(SendStopped):
    """A send stopped because its issue was paused (by a person, or by itself); its rows stay pending."""


class SendCancelled(SendStopped):
    """A send stopped because its issue was cancelled; the rows not sent were skipped."""
