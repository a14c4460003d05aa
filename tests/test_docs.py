"""The docs stay true to the code: generated references are fresh, every command is documented,
links resolve, the project-file example is what ``nbhood init`` writes, and shell completion
works as docs/cli.md says."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nbhood_cli import project
from nbhood_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CONFIG_MD = DOCS / "config.md"
REGENERATE = "run python scripts/gen_cli_docs.py"
NO_DETECTION = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs",
                                                  ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _load_generator()
COMMANDS = GEN.commands()


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _prose(text: str) -> str:
    """Markdown without fenced code blocks and inline code: what links and headings live in."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


# --- (a) generated docs are fresh -------------------------------------------------------------

def test_generated_docs_are_fresh():
    for path, expected in GEN.generated().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != expected:
            pytest.fail(f"{path.relative_to(ROOT)} is stale: {REGENERATE}", pytrace=False)


def test_cli_md_does_not_depend_on_the_terminal(monkeypatch):
    """A narrow terminal, or Typer's test switch for shell detection, changes nothing."""
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv(NO_DETECTION, "1")
    assert GEN.render() == (DOCS / "cli.md").read_text(encoding="utf-8"), \
        f"docs/cli.md depends on the terminal: {REGENERATE}"
    assert os.environ[NO_DETECTION] == "1"  # the generator restores what it unset


def test_check_exits_1_with_one_line_when_stale(tmp_path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    cli_md, config_md = docs / "cli.md", docs / "config.md"
    cli_md.write_text((DOCS / "cli.md").read_text(encoding="utf-8"), encoding="utf-8")
    config_md.write_text(CONFIG_MD.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(GEN, "ROOT", tmp_path)
    monkeypatch.setattr(GEN, "CLI_MD", cli_md)
    monkeypatch.setattr(GEN, "CONFIG_MD", config_md)
    assert GEN.main(["--check"]) == 0

    cli_md.write_text(cli_md.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    capsys.readouterr()
    assert GEN.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert err == f"docs/cli.md is stale: {REGENERATE}\n"

    assert GEN.main([]) == 0  # regenerates the stale file …
    assert GEN.main(["--check"]) == 0  # … and then it is fresh
    assert cli_md.read_text(encoding="utf-8") == (DOCS / "cli.md").read_text(encoding="utf-8")


# --- (b) every command is documented ----------------------------------------------------------

def test_app_has_the_expected_commands():
    assert {"inspect", "validate", "population", "reconcile", "tensions", "assets", "map",
            "init"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_command_in_cli_md(command):
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"\n## nbhood {command}\n" in text, f"docs/cli.md lacks nbhood {command}: {REGENERATE}"
    assert f"Usage: nbhood {command} " in text


@pytest.mark.parametrize("command", COMMANDS)
def test_command_in_readme_status_table(command):
    section = README.read_text(encoding="utf-8").split("## Status", 1)
    assert len(section) == 2, "README.md has no '## Status' section"
    status = section[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\|\s*`nbhood ([a-z][a-z-]*)", status, flags=re.M))
    assert command in listed, (f"README.md's status table has no row for `nbhood {command}` "
                               f"(it lists {', '.join(sorted(listed))})")


# --- (c) links resolve ------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[*`]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", _prose(path.read_text("utf-8")),
                              flags=re.M):
        slug = _slug(heading)
        n = seen.get(slug, 0)
        out.add(slug if n == 0 else f"{slug}-{n}")
        seen[slug] = n + 1
    return out


def _relative_links() -> list[tuple[Path, str]]:
    found = []
    for path in _markdown_files():
        for target in LINK.findall(_prose(path.read_text(encoding="utf-8"))):
            if not SCHEME.match(target):
                found.append((path, target))
    return found


def test_docs_have_relative_links():
    assert len(_relative_links()) > 20  # the check below is not vacuous


@pytest.mark.parametrize("path,target", _relative_links(),
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_relative_link_resolves(path, target):
    file_part, _, fragment = target.partition("#")
    where = path if not file_part else (path.parent / file_part).resolve()
    assert where.exists(), f"{path.relative_to(ROOT)} links to {target}: no such file"
    if fragment and where.suffix == ".md":
        assert fragment in _anchors(where), \
            f"{path.relative_to(ROOT)} links to {target}: no heading with that anchor"


def test_slugs_follow_github():
    assert _slug("Tension metrics and thresholds") == "tension-metrics-and-thresholds"
    assert _slug("PCN membership (ePCN)") == "pcn-membership-epcn"
    assert _slug("Does `split_source_share` show where the error is?") == \
        "does-split_source_share-show-where-the-error-is"


# --- (d) the project-file example is EXAMPLE -------------------------------------------------

def _config_example() -> str:
    text = CONFIG_MD.read_text(encoding="utf-8")
    assert GEN.BEGIN in text and GEN.END in text, "docs/config.md lost its EXAMPLE markers"
    block = text.split(GEN.BEGIN, 1)[1].split(GEN.END, 1)[0]
    match = re.fullmatch(r"\n```toml\n(.*)```\n", block, flags=re.S)
    assert match, "the example in docs/config.md is not one ```toml block"
    return match.group(1)


def test_config_example_is_what_init_writes(run, tmp_path):
    assert _config_example() == project.EXAMPLE, f"docs/config.md is stale: {REGENERATE}"
    result = run("init", tmp_path / "nbhood.toml")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nbhood.toml").read_text(encoding="utf-8") == _config_example()


def test_config_example_parses_and_every_setting_is_known(tmp_path):
    data = tomllib.loads(_config_example())
    assert set(data) == {"inputs", "thresholds", "output"}
    path = tmp_path / "nbhood.toml"
    path.write_text(_config_example(), encoding="utf-8")
    settings = project.load(path)  # refuses unknown tables and settings
    built = project.build(settings, {})
    assert built.statutory.keys() == {"ward", "pcn"}
    assert built.community == str(tmp_path / "community_areas.geojson:id")  # relative to file


def _settings_rows() -> dict[str, str]:
    """`setting` → default cell, from the [inputs]/[thresholds]/[output] tables."""
    text = CONFIG_MD.read_text(encoding="utf-8")
    rows = {}
    for table in ("inputs", "thresholds", "output"):
        section = text.split(f"## `[{table}]`", 1)[1].split("\n## ", 1)[0]
        for key, _option, default in re.findall(
                r"^\| `([a-z_]+)` \| ([^|]*) \| ([^|]*) \|", section, flags=re.M):
            rows[key] = default.strip()
    return rows


def test_config_md_documents_every_setting():
    documented = set(_settings_rows())
    settings = {*project.INPUT_KEYS, "statutory", *project.THRESHOLD_KEYS, *project.OUTPUT_KEYS}
    assert settings - documented == set(), "settings missing from docs/config.md"
    assert documented - settings == set(), "docs/config.md documents settings that do not exist"


def test_config_md_defaults_are_the_code_defaults():
    defaults = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
                for f in dataclasses.fields(project.Project)}
    for key, cell in _settings_rows().items():
        code = defaults[key]
        code = list(code) if isinstance(code, tuple) else code
        value = re.search(r"`([^`]*)`", cell)
        if value:
            documented = tomllib.loads(f"v = {value.group(1)}")["v"]
            assert documented == code, f"docs/config.md: {key} defaults to {code!r}, not {cell}"
        else:
            assert code in (None, [], {}), f"docs/config.md: {key} defaults to {code!r}"


# --- (e) shell completion ---------------------------------------------------------------------

def test_show_completion_bash(monkeypatch):
    # With this set, Typer takes the shell as an argument instead of detecting it (Typer
    # reads it when it builds the command, so it must be in the environment beforehand).
    monkeypatch.setenv(NO_DETECTION, "1")
    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="nbhood")
    assert result.exit_code == 0, result.output
    assert "_NBHOOD_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _nbhood_completion nbhood" in result.stdout


def _complete(words: str) -> list[str]:
    """What bash completion offers for the words typed so far (a trailing space: a new word)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {"_NBHOOD_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = CliRunner().invoke(app, [], prog_name="nbhood", env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.split()


def test_completion_of_commands_and_options():
    assert _complete("nbhood ma") == ["map"]
    assert set(_complete("nbhood ")) == set(COMMANDS)
    assert _complete("nbhood map --fail") == ["--fail-on"]
    assert _complete("nbhood map --method ") == ["areal", "centroid", "dasymetric"]


def test_completion_through_the_console_entry_point():
    env = {**os.environ, "_NBHOOD_COMPLETE": "complete_bash", "COMP_WORDS": "nbhood ma",
           "COMP_CWORD": "1"}
    out = subprocess.run([sys.executable, "-m", "nbhood_cli"], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["map"]
    env = {**os.environ, NO_DETECTION: "1"}
    out = subprocess.run([sys.executable, "-m", "nbhood_cli", "--show-completion", "bash"],
                         env=env, capture_output=True, text=True, check=True)
    assert "complete -o default -F _nbhood_completion nbhood" in out.stdout
