"""molar/wsgi.py: the application `molar serve` loads has its views imported
and its start-up objects frozen out of the cycle collector (SPEC Q1)."""

import os
import subprocess
import sys

PROBE = """
import gc, sys
before = gc.get_freeze_count()
import molar.wsgi
print(before, gc.get_freeze_count(), "molar.portal.views" in sys.modules)
"""


def test_the_served_application_starts_with_its_views_loaded_and_frozen(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(MOLAR_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="molar.settings")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    before, after, views_loaded = result.stdout.split()
    assert int(before) == 0
    assert int(after) > 10_000  # Django and Molar, no longer scanned by full collections
    assert views_loaded == "True"
