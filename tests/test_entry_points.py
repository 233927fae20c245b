"""Conductor as an installed desktop app: the ``conductor`` command, ``python -m conductor``,
its version, the application-menu entry, and a package that holds every module it runs."""

from __future__ import annotations

import shlex
import sys
import tomllib
from pathlib import Path

from helpers import ROOT, child_env, run_child, run_cli

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]


def test_conductor_command_module_and_checkout_script_agree(tmp_path):
    log = tmp_path / "net.log"
    command = Path(sys.executable).parent / "conductor"  # installed by `make setup`
    for argv in ([str(command), "--version"], [sys.executable, "-m", "conductor", "--version"],
                 [sys.executable, str(ROOT / "main.py"), "--version"]):
        done = run_child(argv, log)
        assert (done.returncode, done.stdout.strip()) == (0, f"conductor {VERSION}"), argv
    helped = run_child([str(command), "--help"], log)
    assert helped.returncode == 0 and "usage: conductor" in helped.stdout


def test_install_desktop_puts_a_working_entry_in_the_menu(tmp_path, cache_dir):
    home = tmp_path / "share"
    done = run_cli(["install-desktop"], tmp_path / "data", cache_dir, tmp_path / "net.log",
                   XDG_DATA_HOME=str(home))
    assert done.returncode == 0, done.stderr
    entry = home / "applications" / "conductor.desktop"
    icon = home / "icons" / "hicolor" / "scalable" / "apps" / "conductor.svg"
    assert icon.read_text().lstrip().startswith("<svg")
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines()[1:] if line)
    assert entry.read_text().startswith("[Desktop Entry]\n")
    assert (fields["Type"], fields["Name"], fields["Icon"]) == ("Application", "Conductor",
                                                                "conductor")
    command = shlex.split(fields["Exec"])
    assert command[1:] == ["-m", "conductor", "gui"] and Path(command[0]).is_file()
    # the menu's command starts this Conductor: asked for its version instead of the window
    version = run_child([*command[:-1], "--version"], tmp_path / "net.log",
                        child_env(tmp_path / "net.log"))
    assert version.stdout.strip() == f"conductor {VERSION}"
    again = run_cli(["install-desktop"], tmp_path / "data", cache_dir, tmp_path / "net.log",
                    XDG_DATA_HOME=str(home))
    assert again.returncode == 0 and sorted(p.name for p in home.rglob("*") if p.is_file()) \
        == ["conductor.desktop", "conductor.svg"]


def test_the_package_lists_every_module_folder_and_edits_no_import_path():
    """An installed (not editable) package holds only the folders pyproject names: each
    package folder of the app must be there, and nothing the app runs may reach around the
    import system by editing sys.path."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {init.parent.relative_to(ROOT).as_posix().replace("/", ".")
             for top in ("conductor", "core", "gui") for init in (ROOT / top).rglob("__init__.py")}
    assert found <= listed, f"not packaged: {sorted(found - listed)}"
    for top in ("conductor", "core", "gui"):
        for source in (ROOT / top).rglob("*.py"):
            assert "sys.path" not in source.read_text(), source
