"""A regular (not editable) install carries everything the app reads at run time."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from app import i18n

ROOT = Path(__file__).resolve().parents[1]


def catalogs() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("locales/*/LC_MESSAGES/*.po"))


def test_every_catalog_is_listed_as_data_files() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = sorted(f for files in config["tool"]["setuptools"]["data-files"].values()
                    for f in files)
    assert listed == catalogs() and len(listed) == len(i18n.LANGUAGES)


def test_the_wheel_ships_the_catalogs_where_the_app_looks(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path),
         str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("kazi_salama-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shared = i18n.SHARED_LOCALES.relative_to(sys.prefix).as_posix()
    for lang in i18n.LANGUAGES:
        assert any(n.endswith(f".data/data/{shared}/{lang}/LC_MESSAGES/messages.po")
                   for n in names), names
    assert any(n == "app/reference/data/missions.csv" for n in names)
