#!/usr/bin/env bash
# Debian packages Conductor needs: Tesseract OCR, espeak-ng (phonemes for the Piper voice and a
# second TTS voice), and the libraries Qt loads. Installs only what is missing; never fails the
# set-up when it cannot install (the models that need a missing program are then skipped).
set -u
packages=(tesseract-ocr tesseract-ocr-eng espeak-ng libegl1 libgl1 libxkbcommon0 libfontconfig1
          libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libsndfile1)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "warning: not root and no sudo; install these yourself: ${missing[*]}" >&2; exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null 2>&1 || true
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "warning: could not install: ${missing[*]}" >&2
exit 0
