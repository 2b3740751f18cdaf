"""SPEC K10: the test command's security gates, each shown to pass on Molar and
to fail on a deliberately bad input.

- bandit: `make test` runs BANDIT (below; the Makefile's test-gates target)
  and fails on any finding of high severity.
- `molar check --deploy --fail-level WARNING` with production settings:
  passes, and fails when HTTPS, AUDIT_SIGNING_KEY or two-factor sign-in is
  missing. It reads the practice's settings from the database, so these run
  against the test database on PostgreSQL (the production database)."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BANDIT = [str(BIN / "bandit"), "-q", "-r", "--severity-level", "high"]  # the Makefile's test-gates


def bandit(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*BANDIT, str(path)], capture_output=True, text=True, timeout=300)


def test_the_makefile_runs_the_same_bandit_gate():
    makefile = (ROOT / "Makefile").read_text()
    assert "bandit -q -r --severity-level high molar" in makefile
    assert "test: test-deps lint test-gates test-sqlite test-postgres" in makefile


def test_bandit_fails_on_a_high_severity_finding(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import subprocess\n\n\ndef run(name):\n    return subprocess.call('ls ' + name, shell=True)\n"
    )
    result = bandit(tmp_path)
    assert result.returncode == 1 and "B602" in result.stdout and "Severity: High" in result.stdout


def test_bandit_passes_a_medium_finding(tmp_path):
    """Only high severity fails the gate (medium ones are reviewed, not blocked)."""
    (tmp_path / "medium.py").write_text("import pickle\n\n\ndef load(data):\n    return pickle.loads(data)\n")
    assert bandit(tmp_path).returncode == 0


def test_bandit_finds_nothing_of_high_severity_in_molar():
    result = bandit(ROOT / "molar")
    assert result.returncode == 0, result.stdout


# --- check --deploy -------------------------------------------------------------------------


def production_env(tmp_path: Path, **changes: str) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG")}
    env.update(
        {
            "MOLAR_HOME": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": url,
            "HTTPS": "true",
            "TRUST_X_FORWARDED_PROTO": "true",
            "ALLOWED_HOSTS": "portal.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
            "EMAIL_HOST": "smtp.example.com",
            "EMAIL_PORT": "587",
            "EMAIL_USE_TLS": "true",
            "DEFAULT_FROM_EMAIL": "portal@example.com",
            "AUDIT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )
    env.update(changes)
    return {k: v for k, v in env.items() if v != ""}


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "molar.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def production_database(transactional_db, practice):
    """The practice's row committed where the subprocess can read it (two-factor on)."""
    assert practice.require_staff_two_factor and practice.require_admin_two_factor
    return practice


@pytest.mark.postgres
def test_deploy_check_passes_with_production_settings(production_database, tmp_path):
    result = deploy_check(production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ({"HTTPS": ""}, "molar.W004"),
        ({"AUDIT_SIGNING_KEY": ""}, "molar.W005"),
        ({"EMAIL_HOST": ""}, "molar.W003"),
        ({"SECRET_KEY": "short"}, "security.W009"),
    ],
)
def test_deploy_check_fails_on_a_missing_production_setting(production_database, tmp_path, change, finding):
    result = deploy_check(production_env(tmp_path, **change))
    assert result.returncode != 0 and finding in result.stderr


@pytest.mark.postgres
def test_deploy_check_fails_while_two_factor_sign_in_is_off(production_database, tmp_path):
    from molar.practice.models import PracticeSettings

    PracticeSettings.objects.filter(pk=1).update(require_staff_two_factor=False)
    result = deploy_check(production_env(tmp_path))
    assert result.returncode != 0 and "molar.W007" in result.stderr
