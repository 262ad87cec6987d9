"""The README documents every setting, every built-in metric and every CLI command."""

from pathlib import Path

from pmkit.cli import _parser
from pmkit.config import SETTINGS
from pmkit.definitions import BUILTIN_METRICS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_with_its_default() -> None:
    for setting in SETTINGS:
        row = next((line for line in README.splitlines() if line.startswith(f"| `{setting.key}` |")), None)
        assert row is not None, setting.key
        default = str(setting.default).lower() if isinstance(setting.default, bool) else str(setting.default)
        assert default.replace('"', "") in row.replace('"', "").replace("`", ""), (setting.key, row)


def test_every_builtin_metric_key_is_named_in_the_readme() -> None:
    for key in BUILTIN_METRICS:
        assert f"`{key}`" in README, key


def test_every_cli_command_is_in_the_readme() -> None:
    commands = _parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in commands:
        assert f"| `{name}" in README, name
