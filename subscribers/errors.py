"""One exception family for the subscriber side; no message ever carries an address in clear."""

from __future__ import annotations

from newsletter.errors import NewsletterError


class SubscriberError(NewsletterError):
    """Base of every error `subscribers` raises on purpose; the CLI shows its message, the web a page."""

    http_status = 400


class AddressError(SubscriberError):
    """An address was refused. `plausible` is True when it is well-formed but cannot take mail.

    `reason` says what is wrong in words fit for the person who typed it, and never repeats the address.
    """

    exit_code = 2

    def __init__(self, reason: str, *, plausible: bool = False) -> None:
        self.reason = reason
        self.plausible = plausible
        super().__init__(reason)


class TokenError(SubscriberError):
    """A confirm, unsubscribe or form token is forged, damaged, for another purpose, or expired."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        self.reason = reason
        self.expired = expired
        super().__init__(reason)


class KeyFileError(SubscriberError):
    """The key file is missing, unreadable, too open, or does not hold a key."""

    exit_code = 2

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"key file {path} {problem}")


class KeyMismatch(SubscriberError):
    """The key is valid but is not the one the list was sealed with; nothing may be changed under it.

    `expected` and `found` are fingerprints (never keys); `expected` is empty when the database has no
    check recorded and the key merely failed to open a stored address.
    """

    exit_code = 2

    def __init__(self, origin: str, found: str, expected: str = "", recorded: str = "") -> None:
        self.origin = origin
        self.found = found
        self.expected = expected
        use = "Set NEWSLETTER_PRIVACY_KEY to" if origin.startswith("from") else "Point privacy.key_file at"
        if expected:
            which = (f"the list is sealed with the key of fingerprint {expected}, recorded by `newsletter init` "
                     f"on {recorded}. {use} that key (restore it from your backup; a key file says its "
                     "fingerprint in its first lines)")
        else:
            which = (f"it does not open the addresses stored in the database. {use} the key the list was "
                     "made with (restore it from your backup)")
        super().__init__(f"the key {origin} (fingerprint {found}) is not this list's key: {which}; "
                         "nothing was changed")


class RateLimited(SubscriberError):
    """Too many requests from one client or for one address; try again after `retry_after` seconds."""

    http_status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many requests; try again in {retry_after} seconds")


class ImportFileError(SubscriberError):
    """An import file cannot be read at all (missing, not UTF-8, a CSV without an email column)."""

    exit_code = 2

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class StoreError(SubscriberError):
    """The database refused a subscriber operation; the message never carries statement parameters.

    `transient` says the database may answer if asked again later (it was locked, or away: the
    pipeline's `db.transient.is_transient`), so that a caller who waits for its database (the sender's
    lookup of a batch's recipients) waits for this too.
    """

    http_status = 503

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
