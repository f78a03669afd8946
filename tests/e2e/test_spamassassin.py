"""SpamAssassin, run offline (-L), scores the preview message below 2.0; the score is printed and saved."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

THRESHOLD = 2.0


def test_spamassassin_scores_the_preview_below_two(
    preview_dir: Path, artifacts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    spamassassin = shutil.which("spamassassin")
    if spamassassin is None:
        pytest.fail("spamassassin is not installed: install the Debian package spamassassin (scripts/test does)")
    result = subprocess.run(
        # No Bayes learning and a throw-away HOME: the check leaves nothing behind on the machine.
        [spamassassin, "-L", "-t", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0"],
        input=(preview_dir / "issue.eml").read_bytes(), capture_output=True, timeout=300, check=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    report = result.stdout.decode("utf-8", "replace")
    match = re.search(r"^X-Spam-Status: \w+, score=(-?\d+(?:\.\d+)?)", report, re.MULTILINE)
    assert match is not None, report[:2000]
    score = float(match[1])
    details = report[report.find("Content analysis details"):]
    (artifacts / "spamassassin.txt").write_text(f"score {score}\n\n{details}", encoding="utf-8")
    with capsys.disabled():
        print(f"\nSpamAssassin score of the preview message: {score} (must be below {THRESHOLD})")
    assert score < THRESHOLD, details
