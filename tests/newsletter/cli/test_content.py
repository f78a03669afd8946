"""The commands an admin runs first: init, ingest, and the week's selection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import EXAMPLES
from tests.newsletter.cli.commands import run

SAMPLES = [str(EXAMPLES / "pages"), str(EXAMPLES / "web"), str(EXAMPLES / "feed.xml"),
           str(EXAMPLES / "atom.xml")]


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "newsletter.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n')
    return path


def test_init_creates_the_database_then_finds_it_up_to_date(runner: CliRunner, config_file: Path) -> None:
    code, out, _ = run(runner, config_file, "init")
    assert code == 0
    assert "database created" in out
    code, out, _ = run(runner, config_file, "init")
    assert code == 0
    assert "up to date" in out


def test_commands_before_init_say_to_run_init(runner: CliRunner, config_file: Path) -> None:
    code, _, err = run(runner, config_file, "excerpts", "--week", "2026-W47")
    assert code == 1
    assert "run `newsletter init`" in err
    assert "Traceback" not in err


def test_the_sample_week_is_ingested_and_its_selection_printed_as_json(runner: CliRunner,
                                                                        config_file: Path) -> None:
    run(runner, config_file, "init")
    code, out, _ = run(runner, config_file, "ingest", *SAMPLES)
    assert code == 0
    assert out.splitlines()[-1].startswith("11 source(s): 29 excerpt(s) found, 19 new, 10 already stored, ")
    assert out.splitlines()[-1].endswith(" block(s) dropped")
    code, out, _ = run(runner, config_file, "excerpts", "--week", "2026-W47", "--json")
    assert code == 0
    kept = json.loads(out)
    # The default policy keeps one excerpt a day, the first of each day's page.
    assert [(k["date"], k["title"]) for k in kept] == [
        ("2026-11-16", "The Lamp in the Kitchen"),
        ("2026-11-17", "Friendship Begins With Noticing"),
        ("2026-11-18", "Effort: The Quiet Half of Learning"),
        ("2026-11-19", "The Patience of Seeds"),
        ("2026-11-20", "Learning Together at One Table"),
        ("2026-11-21", "A Circle Is Not a Crowd"),
        ("2026-11-22", "Rest as Part of the Work"),
    ]
    assert all(set(k) >= {"title", "date", "source", "text"} for k in kept)
    assert kept[0]["source"].startswith("From the 1st part of the Daily Study Lesson 11/16/26")
    assert "\n\n" in kept[0]["text"]


def test_the_human_selection_shows_the_reason_for_each_excerpt_left_out(runner: CliRunner,
                                                                       config_file: Path) -> None:
    run(runner, config_file, "init")
    run(runner, config_file, "ingest", *SAMPLES)
    code, out, _ = run(runner, config_file, "excerpts", "--week", "2026-W47")
    assert code == 0
    assert "2nd from 2026-11-16 (per_day = 1)" in out
    assert "7 excerpt(s) kept" in out


def test_an_empty_week_is_a_clear_message(runner: CliRunner, config_file: Path) -> None:
    run(runner, config_file, "init")
    code, out, _ = run(runner, config_file, "excerpts", "--week", "2010-W52")
    assert code == 0
    assert "No excerpts dated 2010-12-27 to 2011-01-02 (2010-W52): nothing to send this week" in out


def test_a_malformed_week_says_how_to_write_one(runner: CliRunner, config_file: Path) -> None:
    run(runner, config_file, "init")
    code, _, err = run(runner, config_file, "excerpts", "--week", "last")
    assert code == 2
    assert err.strip() == "error: week must look like 2010-W52 (got 'last')"


def test_a_failed_source_sets_the_exit_code_and_the_rest_goes_in(runner: CliRunner, config_file: Path,
                                                                 tmp_path: Path) -> None:
    run(runner, config_file, "init")
    code, out, err = run(runner, config_file, "ingest", str(tmp_path / "gone.txt"),
                         str(EXAMPLES / "pages" / "2026-11-16.txt"))
    assert code == 1
    assert f"{tmp_path / 'gone.txt'}: failed: no such file or folder" in err
    assert "3 new" in out


def test_a_bad_config_value_stops_with_the_key_named(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[selection]\nmax_words = -5\n")
    result = runner.invoke(cli, ["--config", str(bad), "excerpts"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: config: selection.max_words must be at least 1 (got -5)"


BITES = str(EXAMPLES / "bites" / "2026-11-18.txt")


def test_explain_shows_each_excerpt_with_its_date_s_origin_and_each_drop_and_stores_nothing(
        runner: CliRunner, config_file: Path) -> None:
    run(runner, config_file, "init")
    code, out, _ = run(runner, config_file, "ingest", "--explain", BITES)
    assert code == 0
    assert f"{BITES}: 3 excerpt(s), 16 block(s) dropped; nothing stored" in out
    assert "excerpt 2026-11-18 (date from the source line) 'Put the Phone in Another Room'" in out
    assert "excerpt 2026-11-18 (date from the page header) 'What If I Fall Asleep?'" in out
    assert "dropped chrome (section heading): 'Daily Study Tip'" in out
    assert "dropped chrome (footer): 'Privacy: Your email address will never be rented, traded or sold.'" in out
    code, out, _ = run(runner, config_file, "excerpts", "--week", "2026-W47", "--json")
    assert json.loads(out) == []


def test_explain_names_a_source_it_cannot_read_and_exits_1(runner: CliRunner, config_file: Path,
                                                           tmp_path: Path) -> None:
    code, out, err = run(runner, config_file, "ingest", "--explain", str(tmp_path / "gone.txt"), BITES)
    assert code == 1
    assert f"{tmp_path / 'gone.txt'}: failed: no such file or folder" in err
    assert "Traceback" not in err
    assert f"{BITES}: 3 excerpt(s)" in out


def test_explain_json_gives_scripts_every_excerpt_and_drop(runner: CliRunner, config_file: Path,
                                                           tmp_path: Path) -> None:
    code, out, _ = run(runner, config_file, "ingest", "--explain", "--json", BITES, str(tmp_path / "gone.txt"))
    assert code == 1
    page, gone = json.loads(out)
    assert [(e["title"], e["date"], e["date_from"]) for e in page["excerpts"]] == [
        ("Put the Phone in Another Room", "2026-11-18", "source line"),
        ("Effort", "2026-11-18", "source line"),
        ("What If I Fall Asleep?", "2026-11-18", "page header"),
    ]
    assert page["excerpts"][1]["source"].endswith("(minutes 31-37) and from the 3rd part (minutes 2-6)")
    assert {"text": "Daily Study Definition", "cause": "chrome", "reason": "section heading"} in page["dropped"]
    assert gone == {"source": str(tmp_path / "gone.txt"), "error": "no such file or folder", "excerpts": [],
                    "dropped": []}


def test_json_without_explain_is_a_usage_error(runner: CliRunner, config_file: Path) -> None:
    code, _, err = run(runner, config_file, "ingest", "--json", BITES)
    assert code == 2
    assert "--json goes with --explain" in err


def test_the_ingest_summary_counts_the_dropped_blocks(runner: CliRunner, config_file: Path) -> None:
    run(runner, config_file, "init")
    code, out, _ = run(runner, config_file, "ingest", BITES)
    assert code == 0
    assert f"  {BITES}: 3 excerpt(s), 3 new, 16 block(s) dropped" in out
    assert out.splitlines()[-1] == "1 source(s): 3 excerpt(s) found, 3 new, 0 already stored, 16 block(s) dropped"
