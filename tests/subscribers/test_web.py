"""The sign-up endpoint through Starlette's TestClient: one answer for every address, abuse refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from newsletter.config import settings
from newsletter.config.settings import Config
from subscribers.addresses import parse
from subscribers.side import Subscribers
from subscribers.store import Consent, SignUp
from subscribers.tables import MailState, Status
from tests.conftest import Clock, write_config
from tests.subscribers.web_client import Wakes, app_for, client_for, form_token, settle, sign_up, stored

PROMISE = "Privacy: Your email address will never be rented, traded or sold."


def test_the_sign_up_page_has_a_labelled_field_with_the_promise_under_it(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<label for="email">Your email address</label>' in html
    assert 'aria-describedby="email-privacy"' in html
    assert f'<p id="email-privacy" class="privacy">{PROMISE}</p>' in html
    assert html.index('id="email"') < html.index(PROMISE) < html.index('type="submit"')
    assert '<form method="post" action="subscribe"' in html
    assert "<script" not in html


def test_every_answer_carries_the_security_headers_and_no_cookie(client: TestClient) -> None:
    for response in (client.get("/"), client.get("/missing"), client.post("/subscribe", data={})):
        headers = response.headers
        assert headers["content-security-policy"] == (
            "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
            "form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["strict-transport-security"] == "max-age=31536000"
        assert "set-cookie" not in headers


def test_the_stylesheet_is_served_from_the_templates(client: TestClient) -> None:
    response = client.get("/site.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ".trap" in response.text


def _make(side: Subscribers, address: str, status: str) -> None:
    parsed = parse(address)
    side.store.sign_up(parsed, Consent("web-signup", "x"))
    row = stored(side, address)
    if status in ("confirmed", "unsubscribed", "bounced"):
        side.store.confirm(row.id, row.nonce)
    if status == "unsubscribed":
        side.store.unsubscribe(row.id, row.nonce)
    if status == "bounced":
        side.store.mark_bounced([row.id])


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_the_answer_is_the_same_whoever_the_address_belongs_to(side: Subscribers, config: Config,
                                                               clock: Clock, as_json: bool) -> None:
    cases = {"new": "new@example.org", "pending": "pending@example.org", "confirmed": "confirmed@example.org",
             "unsubscribed": "left@example.org", "bounced": "bounced@example.org",
             "undeliverable": "someone@mail.invalid"}
    for status, address in cases.items():
        if status not in ("new", "undeliverable"):
            _make(side, address, status)
    clock.advance(minutes=5)  # the pending one was mailed a moment ago, the others long before
    answers = set()
    app = app_for(side, config)
    for n, address in enumerate(cases.values()):
        with client_for(side, config, host=f"192.0.2.{n + 10}", app=app) as client:
            token = form_token(client)
            if as_json:
                response = client.post("/subscribe", json={"email": address, "form_token": token})
            else:
                response = client.post("/subscribe", data={"email": address, "form_token": token})
            answers.add((response.status_code, response.content, response.headers["content-type"]))
    assert len(answers) == 1
    [(status_code, body, _)] = answers
    assert status_code == 200
    assert b"Check your inbox" in body or b"check-your-inbox" in body


def test_a_sign_up_stores_a_pending_subscriber_and_wakes_the_worker(client: TestClient, side: Subscribers,
                                                                    wakes: Wakes) -> None:
    response = sign_up(client, "alice@example.org")
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    assert "alice" not in response.text
    assert wakes.count == 1
    row = stored(side, "alice@example.org")  # once the worker has acted on it
    assert row.status == "pending"
    assert row.consent_form == "web-signup"
    assert re.fullmatch(r"signup-[0-9a-f]{12}", row.consent_text_version)
    assert side.outbox.counts()[MailState.PENDING] == 1
    sign_up(client, "alice@example.org")
    assert wakes.count == 2  # every sign-up wakes the worker, whatever it will find
    assert settle(side) == [SignUp.RECENTLY_MAILED]
    assert side.outbox.counts()[MailState.PENDING] == 1


@pytest.mark.parametrize(("typed", "error"), [
    ("alice@@example.org", "An email address has exactly one @ sign."),
    ("a@b@c", "An email address has exactly one @ sign."),
    ("alice@example.org(<bob@example.org>", "Type the address alone, without a name or angle brackets."),
    ("alice@example.org\r\nBcc: eve@example.org",
     "An email address cannot contain line breaks or other control characters."),
    ("ali\x00ce@example.org", "An email address cannot contain line breaks or other control characters."),
    ("x" * 10_000 + "@example.org", "That is too long for an email address (at most 254 characters)."),
    ("\u0430lice@example.org", "The address mixes letters from different alphabets (Cyrillic and Latin), "
                               "which is how look-alike addresses are made."),
], ids=["double-at", "a-at-b-at-c", "comment-smuggle", "crlf-bcc", "nul", "10kb", "confusable"])
def test_a_malformed_address_gets_an_inline_error_and_nothing_is_stored(
        client: TestClient, side: Subscribers, typed: str, error: str) -> None:
    response = sign_up(client, typed)
    assert response.status_code == 400
    html = response.text
    assert f'<p id="email-error" class="error">{error}</p>'.replace("'", "&#39;") in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="email-error email-privacy"' in html
    for fragment in ("alice", "bob@", "eve@", "xxxxxxxxxx"):
        assert fragment not in html
    assert sum(side.store.counts().values()) == 0
    assert sum(side.outbox.counts().values()) == 0


def test_an_address_the_relay_cannot_reach_without_smtputf8_is_refused_at_sign_up(
        client: TestClient, side: Subscribers) -> None:
    response = sign_up(client, "jö@example.org")
    assert response.status_code == 400
    assert "our mail server cannot deliver to such addresses" in response.text
    assert "jö" not in response.text
    assert sum(side.store.counts().values()) == 0


@pytest.mark.parametrize("body", [b"email=j%FF%40example.org", b"email=j\xff@example.org",
                                  b"email=%C3%28@example.org"], ids=["escaped-ff", "raw-ff", "bad-sequence"])
def test_a_form_that_is_not_utf8_is_refused_rather_than_read_with_replacement_characters(
        client: TestClient, side: Subscribers, body: bytes) -> None:
    token = form_token(client).encode()
    response = client.post("/subscribe", content=body + b"&form_token=" + token,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert "The form did not arrive as UTF-8 text." in response.text
    assert "\ufffd" not in response.text
    assert sum(side.store.counts().values()) == 0


def test_json_with_a_lone_surrogate_is_refused_as_not_utf8(client: TestClient, side: Subscribers) -> None:
    token = form_token(client)
    body = b'{"email": "\\ud800@example.org", "form_token": "' + token.encode() + b'"}'
    response = client.post("/subscribe", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (
        400, "The form did not arrive as UTF-8 text. Please type the address again and send it.")
    assert sum(side.store.counts().values()) == 0


def test_json_gets_json_answers(client: TestClient) -> None:
    token = form_token(client)
    ok = client.post("/subscribe", json={"email": "alice@example.org", "form_token": token})
    assert ok.json()["status"] == "check-your-inbox"
    bad = client.post("/subscribe", json={"email": "alice", "form_token": token})
    assert (bad.status_code, bad.json()) == (400, {"error": "An email address needs an @ sign, as in "
                                                            "name@example.org.", "field": "email"})
    assert client.post("/subscribe", json=["alice@example.org"]).status_code == 400
    assert client.post("/subscribe", content=b"{nope", headers={"content-type": "application/json"}
                       ).json() == {"error": "The request body is not valid JSON."}


def test_a_honeypot_hit_is_answered_as_usual_and_keeps_nothing(client: TestClient, side: Subscribers) -> None:
    normal = sign_up(client, "someone@example.org")
    trapped = sign_up(client, "robot@example.org", website="https://spam.example")
    assert (trapped.status_code, trapped.content) == (normal.status_code, normal.content)
    assert stored(side, "robot@example.org") is None
    assert side.outbox.counts()[MailState.PENDING] == 1


@pytest.mark.parametrize("token", ["", "forged", "A" * 55], ids=["missing", "garbage", "forged"])
def test_a_post_without_a_genuine_form_token_is_refused(client: TestClient, side: Subscribers, token: str) -> None:
    response = client.post("/subscribe", data={"email": "alice@example.org", "form_token": token})
    assert response.status_code == 400
    assert "This form was open too long or did not come from this site." in response.text
    assert 'name="form_token" value="' in response.text  # a fresh form to send again
    assert stored(side, "alice@example.org") is None


def test_an_expired_form_token_is_refused(client: TestClient, side: Subscribers, clock: Clock) -> None:
    token = form_token(client)
    clock.advance(hours=12, seconds=1)
    response = client.post("/subscribe", data={"email": "alice@example.org", "form_token": token})
    assert response.status_code == 400
    assert stored(side, "alice@example.org") is None


@pytest.mark.slow
def test_a_thousand_sign_ups_from_one_client_are_cut_off_after_the_limit(client: TestClient,
                                                                         side: Subscribers, clock: Clock) -> None:
    clock.advance(seconds=30)  # the limiter runs on the side's clock, frozen here mid-minute
    token = form_token(client)
    statuses = [client.post("/subscribe", data={"email": f"reader{n}@example.org", "form_token": token})
                for n in range(1_000)]
    codes = [r.status_code for r in statuses]
    assert codes[:19] == [200] * 19  # the form's GET was not a sign-up; 20 a minute are allowed
    assert set(codes[20:]) == {429}
    assert int(statuses[-1].headers["retry-after"]) in range(1, 61)
    assert "Please try again in" in statuses[-1].text
    settle(side)
    assert side.store.counts()[Status.PENDING] == 20


def test_a_hundred_sign_ups_for_one_address_send_one_email(side: Subscribers, config: Config) -> None:
    codes = []
    app = app_for(side, config)
    for n in range(100):
        with client_for(side, config, host=f"198.51.100.{n}", app=app) as client:
            codes.append(sign_up(client, "alice@example.org").status_code)
    assert set(codes) == {200}  # the same answer each time: what others sent for it shows nowhere
    settle(side)
    assert side.store.counts()[Status.PENDING] == 1
    assert side.outbox.counts()[MailState.PENDING] == 1


def test_oversized_and_odd_bodies_are_refused_cleanly(client: TestClient) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/subscribe", content=b"email=" + b"x" * 100_000, headers=form).status_code == 413
    assert client.post("/subscribe", files={"email": ("a.txt", b"alice@example.org")}).status_code == 400
    assert client.post("/subscribe", content=b"<xml/>", headers={"content-type": "text/xml"}).status_code == 415
    too_many = "&".join(f"f{n}=1" for n in range(50)).encode()
    assert client.post("/subscribe", content=too_many, headers=form).status_code == 400


def test_with_smtputf8_on_an_address_outside_ascii_signs_up_as_any_other(side: Subscribers, tmp_path: Path,
                                                                         database_url: str) -> None:
    config = settings.load(write_config(tmp_path, database_url, subscribers={"smtputf8": True}), environ={})
    with client_for(Subscribers(config, side.engine, now=side.now), config) as client:
        assert sign_up(client, "jö@example.org").status_code == 200
