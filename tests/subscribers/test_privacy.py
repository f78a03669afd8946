"""The privacy promise, checked on the bytes: after a busy day of sign-ups, confirmations, departures,
imports and sent mail, the SQLite file and its WAL hold no subscriber address in any form."""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from newsletter.config import settings
from newsletter.db.engine import connect
from newsletter.db.migrate import migrate
from newsletter.delivery.transports.outbox_folder import OutboxTransport
from subscribers.addresses import Address, parse
from subscribers.confirmation import ConfirmationMail
from subscribers.errors import AddressError
from subscribers.importer import import_file
from subscribers.pages import Pages
from subscribers.recipients import confirmed_recipients
from subscribers.side import Subscribers
from subscribers.web import create_app
from subscribers.worker import OutboxWorker
from tests.conftest import write_config
from tests.subscribers.test_worker import confirm_token

pytestmark = pytest.mark.anyio

# Distinctive local parts, so that finding even the local part alone would mean a leak.
WEB_SIGNUPS = [
    "Zelda.Quixote@Example.org",
    "marmaduke.pettigrew@bücher.example",
    "ottoline.fenwick@xn--bcher-kva.example",
    "Ünïcorn.rider@bücher.example",
    "perpetua.gallimore+news@example.net",
    "wilhelmina.crabtree@example.org",
]
IMPORTED = ["barnaby.hollowell@example.org", "clementine.ashdown@example.org"]
IMPORTED_CONFIRMED = ["ignatius.wetherby@example.com"]
UNDELIVERABLE = "cornelius.fairweather@nowhere.invalid"
HONEYPOT = "bartholomew.spam@example.org"


def forms(address: str) -> set[str]:
    """Every spelling under which an address could have been stored."""
    try:
        parsed: Address | None = parse(address)
    except AddressError:
        parsed = None
    local, _, domain = address.rpartition("@")
    spellings = {address, address.lower(), address.upper(), local, local.lower()}
    for dom in {domain, domain.lower(), domain.encode("idna").decode() if domain.isascii() else
                domain.lower().encode("idna").decode(), _unicode(domain)}:
        spellings |= {f"{local}@{dom}", f"{local.lower()}@{dom}"}
    if parsed is not None:
        spellings |= {parsed.deliver, parsed.lookup}
    return spellings


def _unicode(domain: str) -> str:
    return ".".join(label.encode().decode("idna") if label.startswith("xn--") else label
                    for label in domain.lower().split("."))


def encodings(text: str) -> set[bytes]:
    """The text's bytes, plus base64 and hex of them at every alignment."""
    found = set()
    for raw in {text.encode("utf-8"), text.encode("utf-16-le")}:
        found |= {raw, raw.hex().encode(), raw.hex().upper().encode()}
        for shift in range(3):
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                encoded = encode(b"\0" * shift + raw)
                # Drop the characters that mix in the padding before, and the neighbours after.
                found.add(encoded[(shift * 4 + 2) // 3:-4])
    return {blob for blob in found if len(blob) >= 4}


async def test_no_address_is_in_the_database_file_or_its_wal(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    database = tmp_path / "newsletter.db"
    # SMTPUTF8 on, so that a local part outside ASCII is stored (and searched for) too.
    config = settings.load(write_config(tmp_path, f"sqlite:///{database}", subscribers={"smtputf8": True}),
                           environ={})
    engine = connect(config.database_url)
    migrate(engine)
    side = Subscribers(config, engine)
    with caplog.at_level(logging.DEBUG):
        await _a_busy_day(side, config, engine, tmp_path)
        files = [database, database.with_name("newsletter.db-wal"), database.with_name("newsletter.db-shm")]
        assert files[1].stat().st_size > 0  # the WAL is there, and it is scanned too
        _assert_clean(files)
        engine.dispose()  # checkpoint: the WAL's pages move into the main file
        _assert_clean([f for f in files if f.exists()])
    logged = caplog.text.casefold()
    for address in WEB_SIGNUPS + IMPORTED + IMPORTED_CONFIRMED + [UNDELIVERABLE, HONEYPOT]:
        assert not any(spelling.casefold() in logged for spelling in forms(address))


async def _a_busy_day(side: Subscribers, config: settings.Config, engine: Engine, tmp_path: Path) -> None:
    app = create_app(side, Pages(config, side.signer, side.now))
    with TestClient(app, client=("192.0.2.1", 1)) as client:
        token = re.search(r'name="form_token" value="([^"]+)"', client.get("/").text)
        assert token is not None
        for address in [*WEB_SIGNUPS, UNDELIVERABLE]:
            client.post("/subscribe", data={"email": address, "form_token": token.group(1)})
        client.post("/subscribe", data={"email": HONEYPOT, "form_token": token.group(1), "website": "x"})
        client.post("/subscribe", data={"email": "lucinda.marchbanks@@example.org", "form_token": token.group(1)})
        listing = tmp_path / "import.txt"
        listing.write_text("\n".join(IMPORTED) + "\n")
        import_file(side, listing, consent_note=None)
        listing.write_text("\n".join(IMPORTED_CONFIRMED) + "\n")
        import_file(side, listing, consent_note="paper forms from the autumn open day")
        worker = OutboxWorker(side, OutboxTransport(tmp_path / "outbox"), ConfirmationMail(config))
        assert await worker.run_once() == len(WEB_SIGNUPS) + len(IMPORTED)
        mails = sorted((tmp_path / "outbox" / "new").iterdir())
        for mail in mails[:5]:
            client.post("/confirm", data={"token": confirm_token(mail.read_bytes())})
    confirmed = list(confirmed_recipients(engine, config))
    assert len(confirmed) == 5 + len(IMPORTED_CONFIRMED)
    for _, _, url in confirmed[:2]:
        with TestClient(app) as client:
            assert client.post(url.replace("https://news.example.org", ""),
                               data={"List-Unsubscribe": "One-Click"}).status_code == 200
    side.store.mark_bounced([confirmed[2][0]])
    side.store.erase(parse(WEB_SIGNUPS[-1]))


def _assert_clean(files: list[Path]) -> None:
    every = WEB_SIGNUPS + IMPORTED + IMPORTED_CONFIRMED + [UNDELIVERABLE, HONEYPOT,
                                                           "lucinda.marchbanks@@example.org"]
    for path in files:
        data = path.read_bytes()
        folded = data.decode("utf-8", errors="replace").casefold()  # any mix of upper and lower case
        for address in every:
            for spelling in forms(address):
                assert spelling.casefold() not in folded, f"{path.name} holds a form of a subscriber address"
                for blob in encodings(spelling):
                    assert blob not in data, f"{path.name} holds an encoded form of a subscriber address"
