#!/usr/bin/env bash
# Installs Debian's Chromium and chromedriver for the web page's browser tests (tests/test_web_browser.py) and the
# screenshot script. Nothing is downloaded at test time: the tests use /usr/bin/chromium and /usr/bin/chromedriver.
set -euo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: /usr/bin/chromium is missing and apt-get is not available on this machine." >&2
    echo "Install Chromium and its driver with your package manager (Debian/Ubuntu: chromium chromium-driver)." >&2
    exit 1
fi
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-chromium: not root and sudo is not available; run as root: apt-get install -y chromium chromium-driver" >&2
        exit 1
    fi
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# fonts-dejavu-core: Vietnamese glyphs in screenshots on a minimal image
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core
