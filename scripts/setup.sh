#!/usr/bin/env bash
# All the set-up a fresh machine needs: ffmpeg (Debian package) and a virtual environment
# `.venv` with this package installed (editable) from its own setup.cfg.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffmpeg >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null) \
      || echo "warning: ffmpeg could not be installed; tests that need it will be skipped" >&2
  else
    echo "warning: ffmpeg not found (install it for the x264/x265 anchors and video readers)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -U pip wheel setuptools
fi
# -q and setup.cfg's find_namespace: (no "package would be ignored" warnings) keep this quiet;
# the filter drops setuptools' notice that an editable install is one (it is on purpose)
PYTHONWARNINGS="ignore:Editable installation:UserWarning" \
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
