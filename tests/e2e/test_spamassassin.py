"""SpamAssassin, run offline (-L): the preview message scores below 2.0, and the issue and the confirmation
email as a reader gets them at most 0.5; the scores are printed and the preview's report saved."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from newsletter.config.settings import Config
from newsletter.mail.dkim import DkimSigner
from tests.e2e.small_screens import confirmation_bytes, issue_bytes, sample_config

THRESHOLD = 2.0
STRICT = 0.5


def test_spamassassin_scores_the_preview_below_two(
    preview_dir: Path, artifacts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    spamassassin = installed()
    score, details = spam_score(spamassassin, (preview_dir / "issue.eml").read_bytes(), tmp_path)
    (artifacts / "spamassassin.txt").write_text(f"score {score}\n\n{details}", encoding="utf-8")
    with capsys.disabled():
        print(f"\nSpamAssassin score of the preview message: {score} (must be below {THRESHOLD})")
    assert score < THRESHOLD, details


@pytest.mark.parametrize(("build", "signed"),
                         [(issue_bytes, False), (confirmation_bytes, False), (issue_bytes, True),
                          (confirmation_bytes, True)],
                         ids=["issue", "confirmation", "issue-dkim", "confirmation-dkim"])
def test_spamassassin_scores_the_issue_and_the_confirmation_at_most_half_a_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_pair: tuple[bytes, str],
    build: Callable[[Config], bytes], signed: bool,
) -> None:
    message = build(sample_config(tmp_path))
    if signed:  # offline, SpamAssassin cannot fetch the key: it sees a signature it cannot check
        message = DkimSigner("news.example.org", "weekly", key_pair[0]).sign(message)
    score, details = spam_score(installed(), message, tmp_path)
    name = build.__name__.removesuffix("_bytes") + (", DKIM-signed" if signed else "")
    with capsys.disabled():
        print(f"\nSpamAssassin score of the {name}: {score} (at most {STRICT})")
    assert score <= STRICT, details


def installed() -> str:
    spamassassin = shutil.which("spamassassin")
    if spamassassin is None:
        pytest.fail("spamassassin is not installed: install the Debian package spamassassin (scripts/test does)")
    return spamassassin


def spam_score(spamassassin: str, message: bytes, home: Path) -> tuple[float, str]:
    """SpamAssassin's score for `message`, and its table of the rules that fired."""
    result = subprocess.run(
        # No Bayes learning and a throw-away HOME: the check leaves nothing behind on the machine.
        [spamassassin, "-L", "-t", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0"],
        input=message, capture_output=True, timeout=300, check=True,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    report = result.stdout.decode("utf-8", "replace")
    match = re.search(r"^X-Spam-Status: \w+, score=(-?\d+(?:\.\d+)?)", report, re.MULTILINE)
    assert match is not None, report[:2000]
    return float(match[1]), report[report.find("Content analysis details"):]
