"""The sign-up box on another site: allowed origins may post the form (plain or JSON with CORS) and send
the visitor back to their own thank-you page; every other origin is refused, and no redirect leaves them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from newsletter.config import settings
from subscribers.origins import Origins, origin_of
from subscribers.side import Subscribers
from subscribers.tables import SignupRow
from tests.conftest import Clock, write_config
from tests.subscribers.web_client import client_for

PUBLISHER = "https://www.example.org"
THANKS = PUBLISHER + "/thank-you.html"
ELSEWHERE = "https://elsewhere.example.net"


@pytest.fixture
def publisher_side(tmp_path: Path, database_url: str, engine: Engine, clock: Clock,
                   side: Subscribers) -> Subscribers:
    """The subscriber side with the publisher's site allowed (the `side` fixture recorded the key)."""
    path = write_config(tmp_path, database_url, web={"allowed_origins": [PUBLISHER + "/"]})
    return Subscribers(settings.load(path, environ={}), engine, now=clock)


@pytest.fixture
def site(publisher_side: Subscribers) -> Iterator[TestClient]:
    with client_for(publisher_side, publisher_side.config) as client:
        yield client


def queued(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SignupRow)).scalar_one()


def token_from(client: TestClient, origin: str) -> tuple[str, dict[str, str]]:
    answer = client.get("/form-token", headers={"Origin": origin})
    return answer.json()["form_token"], dict(answer.headers)


def test_a_form_from_an_allowed_origin_signs_up_and_goes_back_to_its_thank_you_page(
        site: TestClient, engine: Engine) -> None:
    token, headers = token_from(site, PUBLISHER)
    assert headers["access-control-allow-origin"] == PUBLISHER
    answer = site.post("/subscribe", data={"email": "reader@example.org", "form_token": token, "thanks": THANKS},
                       headers={"Origin": PUBLISHER, "Sec-Fetch-Site": "cross-site"})
    assert (answer.status_code, answer.headers["location"]) == (303, THANKS)
    assert queued(engine) == 1


def test_a_form_whose_browser_names_the_page_only_by_referer_is_accepted(site: TestClient, engine: Engine) -> None:
    token, _ = token_from(site, PUBLISHER)
    answer = site.post("/subscribe", data={"email": "reader@example.org", "form_token": token},
                       headers={"Referer": PUBLISHER + "/daily-page.html", "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert queued(engine) == 1


@pytest.mark.parametrize("headers", [{"Origin": ELSEWHERE}, {"Referer": ELSEWHERE + "/page.html"},
                                     {"Origin": "https://www.example.org.elsewhere.example.net"},
                                     {"Origin": "http://www.example.org"}, {"Referer": "http://["}],
                         ids=["origin", "referer", "suffix", "other-scheme", "unreadable-referer"])
def test_a_form_from_any_other_origin_is_refused_and_keeps_nothing(site: TestClient, engine: Engine,
                                                                   headers: dict[str, str]) -> None:
    token, token_headers = token_from(site, headers.get("Origin", ELSEWHERE))
    assert "access-control-allow-origin" not in token_headers
    answer = site.post("/subscribe", data={"email": "reader@example.org", "form_token": token, "thanks": THANKS},
                       headers={**headers, "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    assert "location" not in answer.headers
    assert queued(engine) == 0


@pytest.mark.parametrize("thanks", ["https://elsewhere.example.net/thanks", "//elsewhere.example.net/",
                                    "javascript:alert(1)", "https://www.example.org@elsewhere.example.net/",
                                    "https://www.example.org/\r\nSet-Cookie: x=1", "/relative"],
                         ids=["other-site", "scheme-relative", "javascript", "userinfo", "header-injection",
                              "relative"])
def test_no_thank_you_url_outside_the_allowed_origins_is_ever_a_redirect(site: TestClient, thanks: str) -> None:
    token, _ = token_from(site, PUBLISHER)
    answer = site.post("/subscribe", data={"email": "reader@example.org", "form_token": token, "thanks": thanks},
                       headers={"Origin": PUBLISHER, "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200
    assert "location" not in answer.headers


def test_the_honeypot_is_answered_like_a_sign_up_from_the_publishers_page(site: TestClient, engine: Engine) -> None:
    token, _ = token_from(site, PUBLISHER)
    answer = site.post("/subscribe", data={"email": "bot@example.org", "form_token": token, "thanks": THANKS,
                                           "website": "spam"}, headers={"Origin": PUBLISHER})
    assert (answer.status_code, answer.headers["location"]) == (303, THANKS)
    assert queued(engine) == 0


def test_json_from_an_allowed_origin_gets_cors_headers_and_a_preflight(site: TestClient, engine: Engine) -> None:
    preflight = site.options("/subscribe", headers={"Origin": PUBLISHER, "Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == PUBLISHER
    assert preflight.headers["access-control-allow-headers"] == "content-type"
    token, _ = token_from(site, PUBLISHER)
    answer = site.post("/subscribe", json={"email": "reader@example.org", "form_token": token},
                       headers={"Origin": PUBLISHER, "Sec-Fetch-Site": "cross-site"})
    assert answer.json()["status"] == "check-your-inbox"
    assert answer.headers["access-control-allow-origin"] == PUBLISHER
    refused = site.options("/subscribe", headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in refused.headers
    assert queued(engine) == 1


@pytest.mark.parametrize("url", ["http://[", "https://[::1", "https://[not-an-address]/thanks", "https://]"])
def test_a_url_the_parser_cannot_read_has_no_origin(url: str) -> None:
    assert origin_of(url) is None
    assert Origins(frozenset({PUBLISHER})).thank_you(url) is None


@given(st.text(max_size=80) | st.builds(lambda rest: PUBLISHER + rest, st.text(max_size=40))
       | st.builds(lambda rest: "https://" + rest, st.text(max_size=40)))
@example("https://[")  # found by this test: urlsplit's ValueError escaped
def test_a_thank_you_url_is_kept_only_when_it_is_a_plain_url_on_an_allowed_origin(url: str) -> None:
    kept = Origins(frozenset({PUBLISHER})).thank_you(url)
    if kept is not None:
        assert kept == url
        assert origin_of(url) == PUBLISHER
        assert url.isascii()
        assert all(" " < c <= "~" for c in url)
