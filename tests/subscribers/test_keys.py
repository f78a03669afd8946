"""The key file: made once with mode 0600, read back, refused when missing, open to others or damaged."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from subscribers.errors import KeyFileError
from subscribers.keys import derive, ensure_key_file, load_keys, new_secret


def test_ensure_key_file_creates_a_file_only_its_owner_can_read(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.key"
    assert ensure_key_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [key_line] = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert key_line.startswith("nlk1.")
    assert len(key_line) == 5 + 43


def test_ensure_key_file_never_replaces_an_existing_key(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.key"
    ensure_key_file(path)
    before = path.read_bytes()
    assert ensure_key_file(path) is False
    assert path.read_bytes() == before


def test_the_same_file_gives_the_same_keys_and_they_differ_from_each_other(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.key"
    ensure_key_file(path)
    first, second = load_keys(path), load_keys(path)
    assert first == second
    assert len({first.encryption, first.index, first.tokens}) == 3
    assert all(len(key) == 32 for key in (first.encryption, first.index, first.tokens))


def test_a_secret_from_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    secret = new_secret()
    assert load_keys(tmp_path / "missing.key", secret) == derive(secret, "test")


def test_keys_never_show_in_a_repr(tmp_path: Path) -> None:
    keys = derive(new_secret(), "test")
    assert repr(keys) == "Keys(<hidden>)"


def test_a_missing_key_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"does not exist; run `newsletter init` to create it"):
        load_keys(tmp_path / "newsletter.key")


def test_a_key_file_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.key"
    ensure_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"can be read by other users; run: chmod 600 "):
        load_keys(path)


@pytest.mark.parametrize(("content", "problem"), [
    ("", "must hold exactly one key line (found 0)"),
    ("# only a comment\n", "must hold exactly one key line (found 0)"),
    ("nlk1.abc\n", "holds a damaged key; restore it from your backup"),
    ("some other secret\n", "does not hold a key (expected one line starting 'nlk1.')"),
    (new_secret() + "\n" + new_secret() + "\n", "must hold exactly one key line (found 2)"),
], ids=["empty", "comment-only", "truncated", "foreign", "two-keys"])
def test_a_damaged_key_file_is_refused_by_name(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "newsletter.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError) as caught:
        load_keys(path)
    assert str(caught.value) == f"key file {path} {problem}"
