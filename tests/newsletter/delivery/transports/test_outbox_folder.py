from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from newsletter.config.settings import Config, DeliverySettings, OutboxSettings
from newsletter.delivery.transports.base import Outgoing, dot_stuff
from newsletter.delivery.transports.configured import make_transport
from newsletter.delivery.transports.outbox_folder import OutboxTransport, file_name
from newsletter.errors import ConfigError, TemporaryFailure

pytestmark = pytest.mark.anyio

MESSAGE = (
    b"From: Weekly Lessons <letters@news.example.org>\r\n"
    b"To: reader@example.org\r\n"
    b"Subject: The week of 16 November\r\n"
    b"Message-ID: <2026-W47.42.ab12@news.example.org>\r\n"
    b"\r\n"
    b"First line of the issue.\r\n"
    b".A line that starts with a dot.\r\n"
)


def outgoing(data: bytes = MESSAGE, message_id: str = "<2026-W47.42.ab12@news.example.org>",
             recipient: str = "reader@example.org", *, stuffed: bool = False) -> Outgoing:
    return Outgoing("letters@news.example.org", recipient, data, message_id, dot_stuffed=stuffed)


def listing(folder: Path) -> dict[str, list[str]]:
    return {sub: sorted(path.name for path in (folder / sub).iterdir()) for sub in ("tmp", "new", "cur")}


async def test_outbox_writes_the_message_bytes_to_one_eml_file_in_new(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path / "outbox")

    await transport.send(outgoing())
    await transport.close()

    assert listing(tmp_path / "outbox") == {
        "tmp": [], "new": ["2026-W47.42.ab12@news.example.org.eml"], "cur": [],
    }
    assert (tmp_path / "outbox" / "new" / "2026-W47.42.ab12@news.example.org.eml").read_bytes() == MESSAGE


async def test_outbox_creates_its_maildir_folders_including_missing_parents(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "er" / "outbox"

    await OutboxTransport(folder).send(outgoing())

    assert sorted(path.name for path in folder.iterdir()) == ["cur", "new", "tmp"]


async def test_outbox_resending_the_same_message_id_overwrites_instead_of_duplicating(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path)

    await transport.send(outgoing(b"Subject: first try\r\n\r\nold\r\n"))
    await transport.send(outgoing(b"Subject: second try\r\n\r\nnew\r\n"))

    assert listing(tmp_path)["new"] == ["2026-W47.42.ab12@news.example.org.eml"]
    assert transport.path_for("<2026-W47.42.ab12@news.example.org>").read_bytes() == (
        b"Subject: second try\r\n\r\nnew\r\n"
    )


async def test_outbox_keeps_one_file_per_message_id(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path)

    for number in range(3):
        await transport.send(outgoing(message_id=f"<2026-W47.{number}.ab12@news.example.org>"))

    assert listing(tmp_path)["new"] == [
        "2026-W47.0.ab12@news.example.org.eml",
        "2026-W47.1.ab12@news.example.org.eml",
        "2026-W47.2.ab12@news.example.org.eml",
    ]


async def test_outbox_concurrent_writes_of_one_message_leave_one_whole_file_and_no_temporaries(
    tmp_path: Path,
) -> None:
    transport = OutboxTransport(tmp_path)
    bodies = [b"Subject: copy %d\r\n\r\n" % number + b"x" * 200_000 + b"\r\n" for number in range(20)]

    await asyncio.gather(*(transport.send(outgoing(body)) for body in bodies))

    assert listing(tmp_path)["tmp"] == []
    assert listing(tmp_path)["new"] == ["2026-W47.42.ab12@news.example.org.eml"]
    assert transport.path_for("<2026-W47.42.ab12@news.example.org>").read_bytes() in bodies


async def test_outbox_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path)

    await transport.send(outgoing())

    mode = transport.path_for("<2026-W47.42.ab12@news.example.org>").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


async def test_outbox_undoes_dot_stuffing_of_messages_built_from_a_stuffed_template(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path)

    await transport.send(outgoing(dot_stuff(MESSAGE), stuffed=True))

    assert transport.path_for("<2026-W47.42.ab12@news.example.org>").read_bytes() == MESSAGE


async def test_outbox_failure_is_temporary_names_the_folder_and_redacts_the_recipient(tmp_path: Path) -> None:
    (tmp_path / "new").write_text("a file where the new/ folder should be")
    transport = OutboxTransport(tmp_path)

    with pytest.raises(TemporaryFailure) as failure:
        await transport.send(outgoing(recipient="john.doe@example.org"))

    assert failure.value.recipient == "j***@example.org"
    assert "john.doe" not in str(failure.value)
    assert "check that [outbox] dir" in str(failure.value)
    assert sorted((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("message_id", "name"),
    [
        ("<2026-W47.42.ab12@news.example.org>", "2026-W47.42.ab12@news.example.org.eml"),
        ("2026-W47.42.ab12@news.example.org", "2026-W47.42.ab12@news.example.org.eml"),
        ("<a/b@example.org>", "a%2Fb@example.org.eml"),
        ("<a:2,S@example.org>", "a%3A2%2CS@example.org.eml"),
        ("<.hidden@example.org>", "%2Ehidden@example.org.eml"),
        ("<../../etc/passwd>", "%2E.%2F..%2Fetc%2Fpasswd.eml"),
        ("<100%@example.org>", "100%25@example.org.eml"),
        ("<ünï@example.org>", "%C3%BCn%C3%AF@example.org.eml"),
    ],
    ids=["bracketed", "bare", "slash", "maildir-flags-colon", "leading-dot", "path-escape", "percent",
         "non-ascii"],
)
def test_file_name_is_the_message_id_made_safe_for_any_file_system(message_id: str, name: str) -> None:
    assert file_name(message_id) == name


def test_file_name_keeps_long_ids_short_and_distinct() -> None:
    first = file_name("<" + "a" * 400 + "1@example.org>")
    second = file_name("<" + "a" * 400 + "2@example.org>")

    assert len(first) == len(second) == 184
    assert first != second


def test_file_name_refuses_an_empty_message_id() -> None:
    with pytest.raises(ValueError, match="needs a Message-ID"):
        file_name("<>")


def test_make_transport_puts_the_outbox_beside_the_config_file(tmp_path: Path) -> None:
    config = Config(outbox=OutboxSettings(dir="mail/out"), base_dir=tmp_path)

    transport = make_transport(config)

    assert isinstance(transport, OutboxTransport)
    assert transport.folder == tmp_path / "mail" / "out"


def test_make_transport_names_the_key_when_the_transport_is_unknown() -> None:
    expected = r'delivery.transport must be "outbox" or "smtp" \(got \'carrier\'\)'
    with pytest.raises(ConfigError, match=expected):
        make_transport(Config(delivery=DeliverySettings(transport="carrier")))


async def test_outbox_folders_it_creates_are_open_to_their_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    previous = os.umask(0o022)  # the common default outside systemd: new folders readable by everyone
    try:
        await OutboxTransport(folder).send(outgoing())
    finally:
        os.umask(previous)
    modes = {path.relative_to(tmp_path).as_posix(): stat.S_IMODE(path.stat().st_mode)
             for path in (folder, *folder.iterdir())}
    assert modes == {"outbox": 0o700, "outbox/tmp": 0o700, "outbox/new": 0o700, "outbox/cur": 0o700}
