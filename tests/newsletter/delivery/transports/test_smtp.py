"""The SMTP transport against a real aiosmtpd server; every fault comes from the server's side."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from newsletter.config.settings import Config, DeliverySettings, SmtpSettings
from newsletter.delivery.transports.base import Outgoing, dot_stuff
from newsletter.delivery.transports.configured import make_transport
from newsletter.delivery.transports.pacing import SendPacer
from newsletter.delivery.transports.smtp import SmtpTransport
from newsletter.errors import PermanentFailure, SessionFailure, TemporaryFailure
from tests.newsletter.smtp_server import Certificate, SmtpServer

pytestmark = pytest.mark.anyio

SENDER = "letters@news.example.org"
MESSAGE = (
    b"From: Weekly Lessons <letters@news.example.org>\r\n"
    b"Subject: The week of 16 November\r\n"
    b"\r\n"
    b"Plain text part.\r\n"
    b".\r\n"
    b"..two dots\r\n"
    b".one dot\r\n"
    b"a line with a . inside\r\n"
)


def settings(server: SmtpServer, **changes: Any) -> SmtpSettings:
    # A generous timeout: only the stall test waits for it, and a busy machine must not trip the others.
    return dataclasses.replace(SmtpSettings(host=server.host, port=server.port, timeout=5.0), **changes)


def transport_for(server: SmtpServer, **changes: Any) -> SmtpTransport:
    return SmtpTransport(settings(server, **changes), local_hostname="client.example.org")


def message(recipient: str, data: bytes = MESSAGE, *, stuffed: bool = False, following: str = "") -> Outgoing:
    return Outgoing(SENDER, recipient, data, f"<2026-W47.{recipient}>", dot_stuffed=stuffed,
                    following=message(following) if following else None)


async def send_in_a_row(transport: SmtpTransport, recipients: list[str]) -> list[BaseException | None]:
    """One after another, each naming the next as `following`, as the sender does; each one's outcome."""
    outcomes: list[BaseException | None] = []
    for index, recipient in enumerate(recipients):
        after = recipients[index + 1] if index + 1 < len(recipients) else ""
        try:
            await transport.send(message(recipient, following=after))
        except (PermanentFailure, TemporaryFailure) as failure:
            outcomes.append(failure)
        else:
            outcomes.append(None)
    return outcomes


def read_holding(server: SmtpServer, command: bytes) -> bytes:
    """The one read of the client's bytes, as the server's socket returned it, that holds `command`."""
    [found] = [read for read in server.reads if command in read]
    return found


async def send_all(transport: SmtpTransport, recipients: list[str]) -> None:
    await asyncio.gather(*(transport.send(message(recipient)) for recipient in recipients))


# Delivery and the pool


async def test_send_delivers_the_exact_bytes_with_dots_at_line_starts_intact(smtp_server: SmtpServer) -> None:
    transport = transport_for(smtp_server)

    await transport.send(message("reader@example.org"))
    await transport.close()

    [received] = smtp_server.received
    assert (received.sender, received.recipients, received.data) == (
        SENDER, ("reader@example.org",), MESSAGE,
    )


async def test_send_passes_a_prestuffed_message_through_without_stuffing_it_again(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server)

    await transport.send(message("reader@example.org", dot_stuff(MESSAGE), stuffed=True))
    await transport.close()

    assert [received.data for received in smtp_server.received] == [MESSAGE]


async def test_send_declares_the_size_and_8bit_body_the_server_offers(smtp_server: SmtpServer) -> None:
    transport = transport_for(smtp_server)

    await transport.send(message("reader@example.org"))
    await transport.close()

    assert smtp_server.received[0].mail_options == (f"SIZE={len(dot_stuff(MESSAGE))}", "BODY=8BITMIME")


async def test_no_connection_is_opened_before_the_first_send(smtp_server: SmtpServer) -> None:
    transport = transport_for(smtp_server, connections=4)

    await transport.close()

    assert smtp_server.connections == 0


async def test_one_message_at_a_time_reuses_one_connection(smtp_server: SmtpServer) -> None:
    transport = transport_for(smtp_server, connections=4)

    for number in range(5):
        await transport.send(message(f"reader{number}@example.org"))
    await transport.close()

    assert smtp_server.connections == 1
    assert len(smtp_server.received) == 5


async def test_many_concurrent_messages_share_the_configured_number_of_connections(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server, connections=3)
    recipients = [f"reader{number}@example.org" for number in range(90)]

    await send_all(transport, recipients)
    await transport.close()

    assert smtp_server.connections == 3
    assert {received.connection for received in smtp_server.received} == {1, 2, 3}
    assert smtp_server.recipients() == dict.fromkeys(recipients, 1)


async def test_close_says_quit_on_every_open_connection(smtp_server: SmtpServer) -> None:
    transport = transport_for(smtp_server, connections=2)
    await send_all(transport, ["one@example.org", "two@example.org"])

    await transport.close()

    assert await smtp_server.wait_until_idle()
    assert smtp_server.connections == 2


# Faults injected by the server


async def test_421_at_connect_is_a_temporary_session_failure(smtp_server: SmtpServer) -> None:
    smtp_server.faults.greeting = "421 4.3.2 Service not available, try later"
    transport = transport_for(smtp_server)

    with pytest.raises(SessionFailure) as failure:
        await transport.send(message("reader@example.org"))

    assert isinstance(failure.value, TemporaryFailure)
    assert failure.value.code == 421
    assert "turned the connection away: 4.3.2 Service not available" in str(failure.value)


async def test_after_a_421_greeting_the_next_send_connects_again(smtp_server: SmtpServer) -> None:
    smtp_server.faults.greeting = "421 4.3.2 Busy"
    transport = transport_for(smtp_server)
    with pytest.raises(SessionFailure):
        await transport.send(message("first@example.org"))

    smtp_server.faults.greeting = ""
    await transport.send(message("second@example.org"))
    await transport.close()

    assert smtp_server.connections == 2
    assert smtp_server.recipients() == {"second@example.org": 1}


@pytest.mark.parametrize(
    ("reply", "failure", "code"),
    [
        ("451 4.7.1 Greylisted, try again later", TemporaryFailure, 451),
        ("450 4.2.1 Mailbox busy", TemporaryFailure, 450),
        ("550 5.1.1 No such user here", PermanentFailure, 550),
        ("553 5.1.3 Mailbox name not allowed", PermanentFailure, 553),
    ],
    ids=["451-greylisted", "450-busy", "550-unknown-user", "553-bad-mailbox"],
)
async def test_a_refused_recipient_fails_by_reply_class_and_the_connection_carries_on(
    smtp_server: SmtpServer, reply: str, failure: type[Exception], code: int,
) -> None:
    smtp_server.faults.rcpt["refused@example.org"] = reply
    transport = transport_for(smtp_server)

    await transport.send(message("before@example.org"))
    with pytest.raises(failure) as raised:
        await transport.send(message("refused@example.org"))
    # Without an RSET the server would still hold the old envelope and answer "503 nested MAIL".
    await transport.send(message("after@example.org"))
    await transport.close()

    assert type(raised.value) is failure
    assert getattr(raised.value, "code", None) == code
    assert smtp_server.connections == 1
    assert [received.recipients for received in smtp_server.received] == [
        ("before@example.org",), ("after@example.org",),
    ]


async def test_a_refusal_never_shows_the_recipient_address_in_clear(smtp_server: SmtpServer) -> None:
    smtp_server.faults.rcpt["john.doe@example.org"] = "550 5.1.1 <john.doe@example.org>: User unknown"
    transport = transport_for(smtp_server)

    with pytest.raises(PermanentFailure) as failure:
        await transport.send(message("john.doe@example.org"))
    await transport.close()

    assert str(failure.value) == (
        "delivery failed for j***@example.org: the server refused the recipient: "
        "5.1.1 <j***@example.org>: User unknown (SMTP 550)"
    )


async def test_some_recipients_refused_in_a_concurrent_send_leave_the_rest_delivered(
    smtp_server: SmtpServer,
) -> None:
    recipients = [f"reader{number}@example.org" for number in range(30)]
    for address in recipients[::5]:
        smtp_server.faults.rcpt[address] = "451 4.7.1 Try later"
    for address in recipients[1::5]:
        smtp_server.faults.rcpt[address] = "550 5.1.1 Unknown"
    transport = transport_for(smtp_server, connections=3)

    outcomes = await asyncio.gather(*(transport.send(message(address)) for address in recipients),
                                    return_exceptions=True)
    await transport.close()

    assert [type(outcome).__name__ for outcome in outcomes[:5]] == [
        "TemporaryFailure", "PermanentFailure", "NoneType", "NoneType", "NoneType",
    ]
    delivered = [address for address, outcome in zip(recipients, outcomes, strict=True) if outcome is None]
    assert len(delivered) == 18
    assert smtp_server.recipients() == dict.fromkeys(delivered, 1)
    assert smtp_server.connections == 3


async def test_452_too_many_recipients_is_temporary_and_the_next_message_gets_a_fresh_connection(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.recipients_per_connection = 2
    transport = transport_for(smtp_server)

    await transport.send(message("one@example.org"))
    await transport.send(message("two@example.org"))
    with pytest.raises(TemporaryFailure) as failure:
        await transport.send(message("three@example.org"))
    await transport.send(message("three@example.org"))
    await transport.close()

    assert failure.value.code == 452
    assert [(received.recipients, received.connection) for received in smtp_server.received] == [
        (("one@example.org",), 1), (("two@example.org",), 1), (("three@example.org",), 2),
    ]


async def test_a_421_mid_session_is_temporary_and_the_next_send_reconnects(smtp_server: SmtpServer) -> None:
    smtp_server.faults.rcpt["closing@example.org"] = "421 4.3.2 Shutting down"
    transport = transport_for(smtp_server)

    with pytest.raises(TemporaryFailure) as failure:
        await transport.send(message("closing@example.org"))
    await transport.send(message("next@example.org"))
    await transport.close()

    assert failure.value.code == 421
    assert smtp_server.connections == 2


async def test_a_connection_dropped_mid_data_is_temporary_and_the_next_send_reconnects(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.drop_in_data.add("dropped@example.org")
    transport = transport_for(smtp_server)

    await transport.send(message("before@example.org"))
    with pytest.raises(TemporaryFailure) as failure:
        await transport.send(message("dropped@example.org"))
    await transport.send(message("after@example.org"))
    await transport.close()

    assert type(failure.value) is TemporaryFailure
    assert failure.value.recipient == "d***@example.org"
    assert "connection was lost before the server confirmed the message" in str(failure.value)
    assert [(received.recipients, received.connection) for received in smtp_server.received] == [
        (("before@example.org",), 1), (("after@example.org",), 2),
    ]


async def test_a_stalled_server_times_out_as_temporary_after_the_configured_timeout(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.stall_rcpt.add("stalled@example.org")
    transport = transport_for(smtp_server, timeout=0.5)

    with pytest.raises(TemporaryFailure) as failure:
        await transport.send(message("stalled@example.org"))
    await transport.send(message("after@example.org"))
    await transport.close()

    assert "did not answer within 0.5 s ([smtp] timeout)" in str(failure.value)
    assert smtp_server.connections == 2
    assert smtp_server.recipients() == {"after@example.org": 1}


async def test_a_5xx_verdict_on_the_message_is_permanent_and_the_connection_carries_on(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.data["spam@example.org"] = "554 5.7.1 Message rejected as spam"
    transport = transport_for(smtp_server)

    with pytest.raises(PermanentFailure) as failure:
        await transport.send(message("spam@example.org"))
    await transport.send(message("after@example.org"))
    await transport.close()

    assert failure.value.code == 554
    assert smtp_server.connections == 1


async def test_a_refused_sender_is_a_session_failure_never_a_bounce(smtp_server: SmtpServer) -> None:
    smtp_server.faults.mail = "553 5.7.1 Sender address not allowed"
    transport = transport_for(smtp_server)

    with pytest.raises(SessionFailure) as failure:
        await transport.send(message("reader@example.org"))
    await transport.close()

    assert not failure.value.permanent
    assert failure.value.code == 553
    assert "check [newsletter] from_address" in str(failure.value)


async def test_a_cancelled_send_does_not_leave_its_half_transaction_to_the_next_message(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.stall_rcpt.add("stalled@example.org")
    transport = transport_for(smtp_server, timeout=10)
    stalled = asyncio.create_task(transport.send(message("stalled@example.org")))
    assert await smtp_server.wait_for_stall()

    stalled.cancel()
    await transport.send(message("after@example.org"))
    await transport.close()

    assert stalled.cancelled()
    assert smtp_server.connections == 2
    assert smtp_server.recipients() == {"after@example.org": 1}


async def test_connection_refused_is_a_temporary_session_failure_naming_host_and_port() -> None:
    with closed_port() as port:
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout=5.0))
        with pytest.raises(SessionFailure) as failure:
            await transport.send(Outgoing(SENDER, "reader@example.org", MESSAGE, "<1@example.org>"))
        await transport.close()

    assert f"cannot connect to 127.0.0.1:{port}" in str(failure.value)
    assert "check [smtp] host, port and security" in str(failure.value)


@pytest.mark.parametrize(
    "recipient",
    ["no-at-sign.example.org", "two words@example.org", "evil@example.org>\r\nRCPT TO:<x@example.org"],
    ids=["no-at", "space", "command-injection"],
)
async def test_an_unsendable_recipient_is_permanent_before_any_connection(
    smtp_server: SmtpServer, recipient: str,
) -> None:
    transport = transport_for(smtp_server)

    with pytest.raises(PermanentFailure, match="cannot be used in SMTP"):
        await transport.send(message(recipient))

    assert smtp_server.connections == 0


async def test_a_non_ascii_address_is_permanent_when_the_server_lacks_smtputf8(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server)

    with pytest.raises(PermanentFailure, match="does not offer SMTPUTF8"):
        await transport.send(message("élodie@exemple.fr"))
    await transport.send(message("after@example.org"))
    await transport.close()

    assert smtp_server.recipients() == {"after@example.org": 1}


async def test_on_received_sees_each_message_before_the_client_hears_it_was_accepted(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server)
    seen: list[tuple[tuple[str, ...], bool]] = []
    sending = asyncio.create_task(transport.send(message("one@example.org")))  # starts at the next await
    smtp_server.on_received = lambda received: seen.append((received.recipients, sending.done()))

    await sending
    await transport.close()

    assert seen == [(("one@example.org",), False)]


def test_a_transport_in_a_loop_of_its_own_sends_to_the_threaded_server(
    threaded_smtp_server: SmtpServer,
) -> None:
    async def send_and_close() -> None:
        transport = transport_for(threaded_smtp_server)
        await send_all(transport, ["one@example.org", "two@example.org"])
        await transport.close()

    asyncio.run(send_and_close())

    assert threaded_smtp_server.recipients() == {"one@example.org": 1, "two@example.org": 1}


async def test_a_non_ascii_address_goes_out_with_smtputf8_when_the_server_offers_it() -> None:
    async with SmtpServer(smtputf8=True) as server:
        transport = transport_for(server)
        await transport.send(Outgoing("lettres@exemple.fr", "élodie@exemple.fr", MESSAGE, "<1@exemple.fr>"))
        await transport.close()

    [received] = server.received
    assert (received.recipients, received.mail_options[0]) == (("élodie@exemple.fr",), "SMTPUTF8")


# Pipelining (RFC 2920)


async def test_with_pipelining_mail_rcpt_and_data_leave_in_one_write(smtp_server: SmtpServer) -> None:
    transport = transport_for(smtp_server)

    await transport.send(message("reader@example.org"))
    await transport.close()

    assert b"RCPT TO:<reader@example.org>\r\nDATA\r\n" in read_holding(smtp_server, b"MAIL FROM:")
    assert smtp_server.recipients() == {"reader@example.org": 1}


async def test_a_server_without_pipelining_gets_one_command_at_a_time() -> None:
    async with SmtpServer(pipelining=False) as server:
        transport = transport_for(server)
        await send_in_a_row(transport, ["one@example.org", "two@example.org"])
        await transport.close()

    commands = [read for read in server.reads if read.startswith((b"MAIL", b"RCPT", b"DATA"))]
    assert len(commands) == 6
    assert all(read.count(b"\r\n") == 1 for read in commands)
    assert server.recipients() == {"one@example.org": 1, "two@example.org": 1}


async def test_the_next_message_begins_in_the_same_write_as_the_end_of_the_one_before(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server)

    outcomes = await send_in_a_row(transport, ["one@example.org", "two@example.org", "three@example.org"])
    await transport.close()

    assert outcomes == [None, None, None]
    end_of_one = read_holding(smtp_server, b"RCPT TO:<two@example.org>")
    assert end_of_one.startswith(b"From: Weekly Lessons")
    assert b"a line with a . inside\r\n.\r\nMAIL FROM:<letters@news.example.org>" in end_of_one
    assert end_of_one.endswith(b"RCPT TO:<two@example.org>\r\nDATA\r\n")
    assert [(received.recipients, received.connection, received.data) for received in smtp_server.received] == [
        (("one@example.org",), 1, MESSAGE), (("two@example.org",), 1, MESSAGE), (("three@example.org",), 1, MESSAGE),
    ]


async def test_a_550_on_the_second_of_three_rcpts_fails_only_that_recipient_and_the_rest_go_through(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.rcpt["two@example.org"] = "550 5.1.1 No such user here"
    transport = transport_for(smtp_server)

    outcomes = await send_in_a_row(transport, ["one@example.org", "two@example.org", "three@example.org"])
    await transport.close()

    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], PermanentFailure)
    assert outcomes[1].code == 550
    assert "refused the recipient" in str(outcomes[1])
    # The refused RCPT and the DATA behind it (503 from the server) were read as theirs: the third message
    # goes on the same connection, in step.
    assert [(received.recipients, received.connection) for received in smtp_server.received] == [
        (("one@example.org",), 1), (("three@example.org",), 1),
    ]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "lock-step"])
async def test_a_421_in_the_middle_of_a_group_defers_that_message_and_the_next_reconnects(
    pipelining: bool,
) -> None:
    async with SmtpServer(pipelining=pipelining) as server:
        server.faults.rcpt["two@example.org"] = "421 4.3.2 Shutting down"
        transport = transport_for(server)
        outcomes = await send_in_a_row(transport, ["one@example.org", "two@example.org", "three@example.org"])
        await transport.close()

    assert outcomes[0] is None
    assert outcomes[2] is None
    assert type(outcomes[1]) is TemporaryFailure
    assert outcomes[1].code == 421
    assert [(received.recipients, received.connection) for received in server.received] == [
        (("one@example.org",), 1), (("three@example.org",), 2),
    ]


async def test_a_connection_dropped_after_354_defers_that_message_and_loses_the_one_begun_behind_it_to_nobody(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.drop_in_data.add("two@example.org")
    transport = transport_for(smtp_server)

    outcomes = await send_in_a_row(transport, ["one@example.org", "two@example.org", "three@example.org"])
    await transport.close()

    assert outcomes[0] is None
    assert outcomes[2] is None
    assert type(outcomes[1]) is TemporaryFailure
    assert "may be sent again" in str(outcomes[1])
    # three's MAIL, RCPT and DATA went behind two's "." on the cut connection; it is sent on a new one.
    begun, sent = [read for read in smtp_server.reads if b"RCPT TO:<three@example.org>" in read]
    assert b"\r\n.\r\nMAIL FROM:" in begun
    assert sent.startswith(b"MAIL FROM:")
    assert [(received.recipients, received.connection) for received in smtp_server.received] == [
        (("one@example.org",), 1), (("three@example.org",), 2),
    ]


async def test_a_refused_message_leaves_the_one_begun_behind_it_in_step_on_the_same_connection(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.data["one@example.org"] = "554 5.7.1 Message rejected as spam"
    transport = transport_for(smtp_server)

    outcomes = await send_in_a_row(transport, ["one@example.org", "two@example.org"])
    await transport.close()

    assert isinstance(outcomes[0], PermanentFailure)
    assert outcomes[0].code == 554
    assert outcomes[1] is None
    assert [(received.recipients, received.connection) for received in smtp_server.received] == [
        (("two@example.org",), 1),
    ]


async def test_a_421_to_a_messages_end_defers_it_and_the_one_begun_behind_it_goes_on_a_new_connection(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.faults.data["one@example.org"] = "421 4.3.2 Shutting down"
    transport = transport_for(smtp_server)

    outcomes = await send_in_a_row(transport, ["one@example.org", "two@example.org"])
    await transport.close()

    assert type(outcomes[0]) is TemporaryFailure
    assert outcomes[0].code == 421
    assert outcomes[1] is None
    assert [(received.recipients, received.connection) for received in smtp_server.received] == [
        (("two@example.org",), 2),
    ]


async def test_a_message_begun_but_never_sent_is_dropped_with_its_connection_and_never_delivered(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server, connections=1)

    await transport.send(message("one@example.org", following="skipped@example.org"))
    await transport.send(message("other@example.org"))  # the sender moved on: skipped was not sent
    await transport.close()

    assert b"RCPT TO:<skipped@example.org>" in read_holding(smtp_server, b"RCPT TO:<skipped@example.org>")
    assert [(received.recipients, received.connection) for received in smtp_server.received] == [
        (("one@example.org",), 1), (("other@example.org",), 2),
    ]


class OutcomeWrite:
    """A `Ready` the test finishes by hand: the previous outcome's write, still under way."""

    def __init__(self) -> None:
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.started = False

    def start(self) -> None:
        self.started = True

    def done(self) -> bool:
        return self.future.done()

    def __await__(self) -> Generator[Any, None, None]:
        return asyncio.shield(self.future).__await__()


async def wait_for_bytes(server: SmtpServer, data: bytes) -> bool:
    for _ in range(500):
        if data in b"".join(server.reads):
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "lock-step"])
async def test_the_body_may_go_before_the_previous_outcome_is_written_but_never_the_final_dot(
    pipelining: bool,
) -> None:
    async with SmtpServer(pipelining=pipelining) as server:
        transport = transport_for(server)
        write = OutcomeWrite()
        sending = asyncio.create_task(transport.send(dataclasses.replace(message("one@example.org"), ready=write)))
        assert await wait_for_bytes(server, b"a line with a . inside\r\n")

        assert write.started
        assert server.received == []  # the server has the body, not the ".": nothing is accepted yet
        write.future.set_result(None)
        await sending
        await transport.close()

    assert server.recipients() == {"one@example.org": 1}


async def test_a_previous_outcome_that_cannot_be_written_stops_the_message_before_its_final_dot(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server)
    write = OutcomeWrite()
    sending = asyncio.create_task(transport.send(dataclasses.replace(message("one@example.org"), ready=write)))
    assert await wait_for_bytes(smtp_server, b"a line with a . inside\r\n")

    write.future.set_exception(RuntimeError("the database went away"))
    with pytest.raises(RuntimeError, match="the database went away"):
        await sending
    await transport.send(message("two@example.org"))
    await transport.close()

    assert smtp_server.recipients() == {"two@example.org": 1}


@pytest.mark.parametrize("pipelining", [True, False], ids=["begun-behind-the-last-message", "lock-step"])
async def test_a_connection_the_server_closed_while_idle_is_replaced_without_deferring_the_message(
    pipelining: bool,
) -> None:
    async with SmtpServer(pipelining=pipelining) as server:
        transport = transport_for(server)
        await transport.send(message("one@example.org", following="two@example.org"))
        server.hang_up()  # an idle time-out on the server's side
        assert await server.wait_until_idle()
        await transport.send(message("two@example.org"))
        await transport.close()

    assert [(received.recipients, received.connection) for received in server.received] == [
        (("one@example.org",), 1), (("two@example.org",), 2),
    ]


async def test_each_concurrent_caller_finds_the_connection_begun_for_its_next_message(
    smtp_server: SmtpServer,
) -> None:
    transport = transport_for(smtp_server, connections=3)
    rows = [[f"worker{w}.reader{n}@example.org" for n in range(10)] for w in range(3)]

    outcomes = await asyncio.gather(*(send_in_a_row(transport, row) for row in rows))
    await transport.close()

    assert outcomes == [[None] * 10] * 3
    assert smtp_server.connections == 3  # nothing begun was dropped, so no connection was opened again
    assert smtp_server.recipients() == dict.fromkeys([address for row in rows for address in row], 1)


# Security and login


async def test_starttls_upgrades_the_connection_with_a_verified_certificate(certificate: Certificate) -> None:
    async with SmtpServer(tls_context=certificate.server_context()) as server:
        transport = SmtpTransport(settings(server, security="starttls"),
                                  tls_context=certificate.client_context())
        await transport.send(message("reader@example.org"))
        await transport.close()

    assert [(received.tls, received.data) for received in server.received] == [(True, MESSAGE)]


async def test_starttls_refuses_a_certificate_nobody_vouches_for(certificate: Certificate) -> None:
    async with SmtpServer(tls_context=certificate.server_context()) as server:
        transport = SmtpTransport(settings(server, security="starttls"))
        with pytest.raises(SessionFailure, match="CERTIFICATE_VERIFY_FAILED"):
            await transport.send(message("reader@example.org"))
        await transport.close()

    assert server.received == []


async def test_starttls_against_a_server_without_it_fails_instead_of_sending_in_clear(
    smtp_server: SmtpServer, certificate: Certificate,
) -> None:
    transport = SmtpTransport(settings(smtp_server, security="starttls"),
                              tls_context=certificate.client_context())

    with pytest.raises(SessionFailure, match="STARTTLS extension not supported"):
        await transport.send(message("reader@example.org"))
    await transport.close()

    assert smtp_server.received == []


async def test_security_tls_speaks_tls_from_the_first_byte(certificate: Certificate) -> None:
    async with SmtpServer(tls_context=certificate.server_context(), implicit_tls=True) as server:
        transport = SmtpTransport(settings(server, security="tls"), tls_context=certificate.client_context())
        await transport.send(message("reader@example.org"))
        await transport.close()

    assert [received.tls for received in server.received] == [True]


async def test_auth_logs_in_once_per_connection_with_username_and_password() -> None:
    async with SmtpServer(logins={"newsletter": "correct horse"}) as server:
        transport = transport_for(server, username="newsletter", password="correct horse")
        await send_all(transport, ["one@example.org", "two@example.org"])
        await transport.close()

    assert [received.login for received in server.received] == ["newsletter", "newsletter"]


async def test_auth_over_starttls(certificate: Certificate) -> None:
    async with SmtpServer(tls_context=certificate.server_context(), logins={"newsletter": "pw"}) as server:
        transport = SmtpTransport(settings(server, security="starttls", username="newsletter", password="pw"),
                                  tls_context=certificate.client_context())
        await transport.send(message("reader@example.org"))
        await transport.close()

    assert [(received.login, received.tls) for received in server.received] == [("newsletter", True)]


async def test_a_wrong_password_is_a_session_failure_that_says_which_settings_to_check() -> None:
    async with SmtpServer(logins={"newsletter": "correct horse"}) as server:
        transport = transport_for(server, username="newsletter", password="battery staple")
        with pytest.raises(SessionFailure) as failure:
            await transport.send(message("reader@example.org"))
        await transport.close()

    assert failure.value.code == 535
    assert "refused the login of [smtp] username 'newsletter'" in str(failure.value)
    assert "NEWSLETTER_SMTP_PASSWORD" in str(failure.value)
    assert "battery staple" not in str(failure.value)


async def test_without_a_username_the_transport_does_not_authenticate(smtp_server: SmtpServer) -> None:
    transport = transport_for(smtp_server)

    await transport.send(message("reader@example.org"))
    await transport.close()

    assert smtp_server.received[0].login == ""


# Rate limit


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_books_one_slot_per_interval() -> None:
    limiter = SendPacer(4, clock=FrozenClock(100.0))

    assert [limiter.reserve() for _ in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_rate_limiter_does_not_turn_idle_time_into_a_burst() -> None:
    clock = FrozenClock(100.0)
    limiter = SendPacer(4, clock=clock)
    limiter.reserve()

    clock.now = 110.0

    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.25, 0.5]


def test_rate_limiter_counts_time_already_waited() -> None:
    clock = FrozenClock(100.0)
    limiter = SendPacer(2, clock=clock)
    limiter.reserve()
    limiter.reserve()

    clock.now = 100.2

    assert limiter.reserve() == pytest.approx(0.8)


def test_rate_limiter_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="must be above 0"):
        SendPacer(0)


def test_rate_zero_means_no_limiter() -> None:
    assert SmtpTransport(SmtpSettings(rate_per_second=0)).limiter is None


def test_the_configured_rate_sets_the_limiter_interval() -> None:
    limiter = SmtpTransport(SmtpSettings(rate_per_second=20)).limiter

    assert limiter is not None
    assert limiter.interval == pytest.approx(0.05)


async def test_every_concurrent_send_books_a_slot_on_one_shared_schedule(
    smtp_server: SmtpServer,
) -> None:
    limiter = SendPacer(100, clock=FrozenClock(100.0))
    transport = SmtpTransport(settings(smtp_server, connections=3), limiter=limiter)

    await send_all(transport, [f"reader{number}@example.org" for number in range(6)])
    await transport.close()

    assert len(smtp_server.received) == 6
    assert limiter.reserve() == pytest.approx(0.06)  # six slots of 10 ms were booked before this one


def test_make_transport_builds_the_smtp_transport_from_its_section() -> None:
    smtp = SmtpSettings(host="relay.example.org", port=2525, connections=2, rate_per_second=10)

    transport = make_transport(Config(delivery=DeliverySettings(transport="smtp"), smtp=smtp))

    assert isinstance(transport, SmtpTransport)
    assert transport.settings == smtp


@contextmanager
def closed_port() -> Iterator[int]:
    """A local port nothing listens on: bound but not listening, so no one else takes it meanwhile."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])
