"""README's "Where things are" table matches the tree: every `molar/...` path
it names exists, and every directory and module at the first level of
molar/ is in it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"__init__.py", "__pycache__"}


def layout_paths() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {path for cell in first_cells for path in re.findall(r"`(molar/[^`]*)`", cell)}


def test_every_path_in_the_table_exists():
    missing = sorted(path for path in layout_paths() if not (ROOT / path).exists())
    assert not missing, f"README names paths that do not exist: {missing}"


def test_every_app_and_top_level_module_is_in_the_table():
    listed = {path.rstrip("/").split("/")[1] for path in layout_paths()}
    present = {
        entry.name
        for entry in (ROOT / "molar").iterdir()
        if entry.name not in SKIP and (entry.is_dir() or entry.suffix == ".py")
    }
    assert not present - listed, f"missing from README's layout table: {sorted(present - listed)}"


def test_directories_are_written_with_a_slash_and_modules_without():
    for path in layout_paths():
        assert (ROOT / path).is_dir() == path.endswith("/"), path
