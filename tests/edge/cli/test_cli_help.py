"""Every `oee-edge` command's `--help` shows examples of that command."""

from __future__ import annotations

import subprocess

import pytest

from edge.cli.main import build_parser, main
from tests.fixtures.gateway_process import OEE_EDGE

COMMANDS = ["run", "check", "demo", "simulate", "browse", "modbus-read"]


def test_the_parser_has_exactly_these_commands() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_has_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: oee-edge {command} ")
    examples = out.split("\nExamples:\n", 1)[1]
    lines = [ln.strip() for ln in examples.splitlines() if ln.startswith("  oee-edge ")]
    assert len(lines) >= 2, examples
    assert all(ln.split()[1] == command for ln in lines), lines
    # The epilog keeps its own line breaks (RawDescriptionHelpFormatter), not re-wrapped.
    assert "\n  oee-edge " in examples


def test_top_level_help_of_the_installed_script() -> None:
    proc = subprocess.run([OEE_EDGE, "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    examples = proc.stdout.split("\nExamples:\n", 1)[1]
    shown = {ln.split()[1] for ln in examples.splitlines() if ln.startswith("  oee-edge ")}
    assert shown == set(COMMANDS)  # one example per command at least


def test_run_and_demo_take_a_log_format() -> None:
    parser = build_parser()
    assert parser.parse_args(["run", "-c", "x.yaml", "--log-format", "json"]).log_format == "json"
    assert parser.parse_args(["demo", "--log-format", "text"]).log_format == "text"
    assert parser.parse_args(["run", "-c", "x.yaml"]).log_format is None  # the config decides
    args = parser.parse_args(["check", "x.yaml", "--connect", "--timeout", "5"])
    assert (args.connect, args.timeout) == (True, 5.0)
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "-c", "x.yaml", "--log-format", "xml"])
