"""The reader's own page speaks the readers' language: its template, the words the code puts on it, and
what the history recorded in English."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from subscribers.side import Subscribers
from subscribers.tables import Status
from tests.conftest import write_config
from tests.subscribers.test_manage import confirmed
from tests.subscribers.web_client import stored


@pytest.fixture
def config_path(tmp_path: Path, database_url: str) -> Path:
    return write_config(tmp_path, database_url, newsletter={"language": "ru"})


def test_the_page_and_its_notices_are_in_russian_with_the_right_plural_forms(client: TestClient,
                                                                               side: Subscribers) -> None:
    token = confirmed(client, side, "alice@example.org")
    choices = client.get(f"/manage?token={token}").text
    assert "<h1>Ваша подписка</h1>" in choices
    assert "<dd>подписка действует</dd>" in choices
    for label in ("1 неделю", "2 недели", "4 недели", "8 недель"):
        assert f">\n{label}</label>" in choices
    client.post("/manage", data={"token": token, "do": "change", "email": "new.alice@example.net"})
    page = client.post("/manage", data={"token": token, "do": "pause", "weeks": "2"}).text
    # Babel's Russian long date: a narrow no-break space before "г."; the time is a left-to-right isolate.
    assert "Рассылка приостановлена. До 30 ноября 2026\u202fг., \u206609:00 UTC\u2069 выпуски" in page
    assert "(2 недели)" in page  # the pause's detail, stored as "2 weeks"
    assert "(новый адрес, ещё не подтверждён)" in page
    for english in (">1 week", "weeks<", "Delete everything", "Your subscription", "Paused"):
        assert english not in choices + page

def test_a_message_page_of_the_reader_is_in_russian(client: TestClient) -> None:
    page = client.get("/manage")
    assert "Откройте свою страницу по ссылке из письма" in page.text


@pytest.mark.parametrize("status", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED],
                         ids=str)
def test_the_page_of_an_ended_subscription_says_how_it_ended(client: TestClient, side: Subscribers,
                                                             status: Status) -> None:
    token = confirmed(client, side, "alice@example.org")
    row = stored(side, "alice@example.org")
    assert side.store.end_by_mail(row.id, row.nonce, status)
    page = client.get(f"/manage?token={token}")
    assert page.status_code == 200
    assert "На этот адрес выпуски больше не отправляются." in page.text
