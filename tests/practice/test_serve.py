"""`molar serve` reads PORT, WEB_WORKERS and WEB_THREADS from the environment:
a value that is not a number is one line naming the variable, not a traceback."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize(("name", "value"), [("PORT", "80a"), ("WEB_WORKERS", "two"), ("WEB_THREADS", "4.5")])
def test_a_variable_that_is_not_a_whole_number_is_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(CommandError) as refused:
        call_command("serve")
    assert str(refused.value) == f"{name} must be a whole number, not {value!r}."


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "70000"}, "--port (or PORT) must be between 1 and 65535."),
        ({"WEB_WORKERS": "0"}, "--workers (or WEB_WORKERS) must be at least 1."),
        ({"WEB_THREADS": "-1"}, "WEB_THREADS must be at least 1."),
    ],
)
def test_an_out_of_range_variable_is_named(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("serve")


def test_an_option_overrides_a_bad_variable_it_replaces(monkeypatch):
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(CommandError, match="--workers"):
        call_command("serve", port=8001, workers=0)


def test_the_command_line_prints_one_line_and_exits_non_zero(tmp_path):
    env = {**os.environ, "PORT": "80a", "MOLAR_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "molar.cli", "serve"],
        env=env,  # noqa: S603
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: PORT must be a whole number, not '80a'."
