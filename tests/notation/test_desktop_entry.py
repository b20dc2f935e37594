"""The desktop entry (packaging/): a valid .desktop file, and the install script puts it and the icon in the
user's application menu with the full path of composer-gui."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from xml.etree import ElementTree

import pytest

from tests.notation.conftest import REPO_ROOT

PACKAGING = REPO_ROOT / "packaging"


def _entry(path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read(path)
    return parser["Desktop Entry"]


def test_the_desktop_entry_names_the_app_and_its_icon():
    entry = _entry(PACKAGING / "composer.desktop")
    assert entry["Type"] == "Application" and entry["Name"] == "Composer"
    assert entry["Exec"].split()[0] == "composer-gui" and entry["Icon"] == "composer"
    assert "Music" in entry["Categories"].split(";") and "audio/midi" in entry["MimeType"].split(";")
    assert ElementTree.parse(PACKAGING / "composer.svg").getroot().tag.endswith("svg")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
def test_desktop_file_validate_accepts_it():
    result = subprocess.run(["desktop-file-validate", str(PACKAGING / "composer.desktop")], capture_output=True,
                            text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_the_install_script_writes_the_entry_with_the_full_path(tmp_path):
    gui = tmp_path / "venv" / "bin" / "composer-gui"
    gui.parent.mkdir(parents=True)
    gui.write_text("#!/bin/sh\n")
    gui.chmod(0o755)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share")}
    result = subprocess.run([str(PACKAGING / "install-desktop-entry.sh"), str(gui)], capture_output=True, text=True,
                            env=env)
    assert result.returncode == 0, result.stderr
    entry = _entry(tmp_path / "share" / "applications" / "composer.desktop")
    assert entry["Exec"] == f'"{gui}" %f'
    assert (tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "composer.svg").is_file()


def test_the_install_script_says_when_it_finds_no_app(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path / "share"), "HOME": str(tmp_path)}
    result = subprocess.run(["sh", str(PACKAGING / "install-desktop-entry.sh"), str(tmp_path / "missing")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "composer-gui not found" in result.stderr
