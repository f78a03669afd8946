"""The subscriber side of returned mail (`newsletter.inbound.returns.Returns`): reads the token of a
return address and ends the subscription it names. No address is opened or handed out."""

from __future__ import annotations

from newsletter.inbound.returns import Addressee, Ending, Target
from subscribers.side import Subscribers
from subscribers.tables import Status
from subscribers.verp import ReturnKind

_TARGETS = {ReturnKind.ISSUE: Target.ISSUE, ReturnKind.CONFIRMATION: Target.CONFIRMATION,
            ReturnKind.UNSUBSCRIBE: Target.UNSUBSCRIBE}
_STATUS = {Ending.BOUNCED: Status.BOUNCED, Ending.COMPLAINED: Status.COMPLAINED,
           Ending.UNSUBSCRIBED: Status.UNSUBSCRIBED}


class SubscriberReturns:
    """Return addresses read with the list's key; subscriptions ended through the store."""

    def __init__(self, side: Subscribers) -> None:
        self._side = side

    def identify(self, address: str) -> Addressee:
        token = self._side.returns.read(address)
        return Addressee(_TARGETS[token.kind], token.subscriber_id,
                         token.issue_id if token.kind is ReturnKind.ISSUE else None, token.nonce_prefix)

    def end(self, addressee: Addressee, ending: Ending) -> bool:
        return self._side.store.end_by_mail(addressee.subscriber_id, addressee.subscription, _STATUS[ending])
