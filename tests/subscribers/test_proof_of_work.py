"""The optional ALTCHA proof of work: a solved challenge passes once; anything else fails, and the form
answers a failure exactly as it answers a sign-up, keeping nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from altcha.v1 import solve_challenge
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from newsletter.config import settings
from subscribers.proof_of_work import LIFETIME, ProofOfWork
from subscribers.side import Subscribers
from subscribers.tables import SignupRow
from tests.conftest import Clock, write_config
from tests.subscribers.web_client import client_for, form_token

KEY = b"k" * 32


def solved(challenge: dict[str, Any], number: int | None = None) -> str:
    """The form field's value for `challenge`, with the right number unless `number` is given."""
    if number is None:
        found = solve_challenge(challenge["challenge"], challenge["salt"], challenge["algorithm"],
                                challenge["maxNumber"])
        assert found is not None
        number = found.number
    answer = {key: challenge[key] for key in ("algorithm", "challenge", "salt", "signature")} | {"number": number}
    return base64.b64encode(json.dumps(answer).encode()).decode()


def test_a_solution_passes_once(clock: Clock) -> None:
    work = ProofOfWork(KEY, clock)
    payload = solved(work.challenge())
    assert work.passed(payload)
    assert not work.passed(payload)  # a replay


def test_a_wrong_number_an_expired_challenge_or_another_key_fails(clock: Clock) -> None:
    work = ProofOfWork(KEY, clock)
    challenge = work.challenge()
    right = solved(challenge)
    number = json.loads(base64.b64decode(right))["number"]
    assert not work.passed(solved(challenge, number + 1))
    assert not ProofOfWork(b"x" * 32, clock).passed(right)
    clock.advance(seconds=LIFETIME.total_seconds() + 1)
    assert not work.passed(right)


@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda raw: base64.b64encode(raw).decode()))
def test_no_made_up_payload_passes(payload: str) -> None:
    assert not ProofOfWork(KEY, Clock()).passed(payload)


@pytest.fixture
def guarded(tmp_path: Path, database_url: str, engine: Engine, clock: Clock,
            side: Subscribers) -> Iterator[tuple[TestClient, Subscribers]]:
    """The endpoint with `[web] proof_of_work` on (the `side` fixture recorded the key)."""
    path = write_config(tmp_path, database_url, web={"proof_of_work": True})
    strict = Subscribers(settings.load(path, environ={}), engine, now=clock)
    with client_for(strict, strict.config) as client:
        yield client, strict


def queued(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SignupRow)).scalar_one()


def test_the_page_carries_the_solver_and_its_field(guarded: tuple[TestClient, Subscribers]) -> None:
    client, _ = guarded
    page = client.get("/").text
    assert '<input type="hidden" name="altcha">' in page
    assert '<script src="altcha.js" defer></script>' in page
    script = client.get("/altcha.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"


def test_a_form_that_fails_the_check_is_answered_like_one_that_passes_and_keeps_nothing(
        guarded: tuple[TestClient, Subscribers], engine: Engine) -> None:
    client, _ = guarded
    failed = [client.post("/subscribe", data={"email": "reader@example.org", "form_token": form_token(client),
                                              **extra})
              for extra in ({}, {"altcha": "bm90IGEgc29sdXRpb24="})]
    assert queued(engine) == 0
    challenge = client.get("/altcha-challenge").json()
    passed = client.post("/subscribe", data={"email": "reader@example.org", "form_token": form_token(client),
                                             "altcha": solved(challenge)})
    assert queued(engine) == 1
    assert {(answer.status_code, answer.text) for answer in [*failed, passed]} == {(passed.status_code, passed.text)}
