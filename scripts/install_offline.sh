#!/usr/bin/env bash
# Install Conductor from its offline bundle, with no network: `tar xf conductor-offline-*.tar`,
# then `./install.sh` in the folder it made. Every file is checked against MANIFEST.sha256 first
# (a damaged or changed bundle installs nothing); then the missing Debian packages (as root), a
# venv from the bundled wheels, the models from their verified pack, and the demo request.
# A second run does no step twice.
set -euo pipefail
cd "$(dirname "$0")"
here="$(pwd)"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== checking the bundle (every file against MANIFEST.sha256)"
if ! sha256sum --quiet --strict -c MANIFEST.sha256; then
  echo "error: the bundle is damaged or was changed (files above); nothing was installed" >&2
  exit 1
fi

echo "== Debian packages"
missing=()
for deb in debs/*.deb; do
  [ -e "$deb" ] || continue
  name="$(dpkg-deb -f "$deb" Package)"
  dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$deb")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "   all present"
elif [ "$(id -u)" -eq 0 ]; then
  DEBIAN_FRONTEND=noninteractive dpkg -i "${missing[@]}" >/dev/null
else
  echo "warning: not root; install these first: sudo dpkg -i ${missing[*]}" >&2
fi

echo "== Python packages"
venv="$here/source/.venv"
if [ ! -e "$venv/.installed" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --no-deps --find-links wheels wheels/*.whl
  "$venv/bin/pip" install -q --no-deps --no-build-isolation -e source
  touch "$venv/.installed"
else
  echo "   installed"
fi

echo "== models"
cd source
if [ ! -e model_cache/registry.db ]; then
  "$venv/bin/conductor" models unpack "$here/models.tar"
else
  echo "   installed"
fi
"$venv/bin/conductor" models verify

echo "== the demo request"
"$venv/bin/conductor" ask "$(cat "$here/DEMO.txt")"
echo "Installed. Run $venv/bin/conductor (or add it to the menu: $venv/bin/conductor install-desktop)"
