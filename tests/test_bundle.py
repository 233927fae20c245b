"""The offline bundle end to end: built here, then unpacked into a fresh folder and installed and
run inside a network namespace with no interfaces (``unshare -n``), so nothing can be fetched.

Slow (the bundle is about 3 GB; see the README for the time), so it runs only when asked:
``make test-bundle`` (``pytest --run-bundle tests/test_bundle.py``). It needs root for
``unshare -n``, and is skipped with the reason where that cannot run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from helpers import ROOT, heard


@pytest.fixture()
def namespace(request):
    if not request.config.getoption("--run-bundle"):
        pytest.skip("slow: builds and installs a 3 GB bundle; run with --run-bundle")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to run the install with no network")
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("this machine refuses network namespaces (unshare -n)")


def test_the_bundle_installs_and_answers_with_no_network(namespace, tmp_path):
    built = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_bundle.py"), "--out",
                            str(tmp_path / "dist")], capture_output=True, text=True, cwd=ROOT)
    assert built.returncode == 0, built.stderr[-3000:]
    report = json.loads(built.stdout)
    assert report["extras"] == [] and any(p.startswith("torch==") for p in report["left_out"])
    [bundle] = (tmp_path / "dist").glob("conductor-offline-*.tar")
    target = tmp_path / "air-gapped"
    with tarfile.open(bundle) as tar:
        tar.extractall(target, filter="data")
    [folder] = target.iterdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           "QT_QPA_PLATFORM": "offscreen"}

    def install():
        return subprocess.run(["unshare", "-n", str(folder / "install.sh")], cwd=folder,
                              capture_output=True, text=True, env=env, timeout=3000)

    demo = folder / "DEMO.txt"
    kept = demo.read_bytes()
    demo.write_bytes(kept + b"tampered")
    refused = install()
    assert refused.returncode == 1 and "damaged or was changed" in refused.stderr
    assert not (folder / "source" / ".venv").exists()  # nothing installed
    demo.write_bytes(kept)

    first = install()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "changed" not in first.stdout.split("== the demo request")[0]  # models verify ok
    answer = first.stdout.split("== the demo request", 1)[1]
    assert heard(answer, {"offline", "keep", "data", "private"}), answer
    venv_python = str(folder / "source" / ".venv" / "bin" / "python")
    lean = subprocess.run([venv_python, "-c", "from core.runners.onnx_loading import "
                           "require_import_extra as r; r('importing a model')"],
                          cwd=folder / "source", capture_output=True, text=True, env=env)
    assert lean.returncode == 1 and "install the `import` extra" in lean.stderr, lean.stderr
    again = install()
    assert again.returncode == 0
    assert again.stdout.count("   installed") == 2  # Python packages and models: no work twice
