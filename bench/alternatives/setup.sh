#!/usr/bin/env bash
# Installs the contenders of benches/alternatives.rs next to this file, nowhere else:
#   .venv/         python3 -m venv + pip install -r requirements.txt (requests, aiohttp, python-calamine)
#   node_modules/  npm install (newman, pinned in package.json / package-lock.json)
# Each part is tried even if the other fails; the bench skips a contender whose tool is
# missing. Re-running is cheap: a part already installed is left as it is.
# Exit status: 0 when both parts are in place, 1 otherwise.
set -u
cd "$(dirname "$0")"
status=0

if [ -x .venv/bin/python ] && .venv/bin/python -c 'import requests, aiohttp' 2>/dev/null; then
    echo "setup: .venv ready"
elif command -v python3 >/dev/null; then
    echo "setup: creating .venv and installing requirements.txt"
    if ! { python3 -m venv .venv &&
        .venv/bin/python -m pip install --disable-pip-version-check --quiet -r requirements.txt; }; then
        echo "setup: the Python contenders could not be installed" >&2
        rm -rf .venv # so the next run tries again
        status=1
    fi
else
    echo "setup: python3 not found; the Python contenders will be skipped" >&2
    status=1
fi

if [ -x node_modules/.bin/newman ]; then
    echo "setup: newman ready"
elif command -v npm >/dev/null; then
    echo "setup: installing newman with npm"
    if ! npm install --no-audit --no-fund --loglevel=error; then
        echo "setup: newman could not be installed" >&2
        rm -rf node_modules
        status=1
    fi
else
    echo "setup: npm not found; newman will be skipped" >&2
    status=1
fi
exit $status
