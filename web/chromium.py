"""Headless Chromium from the distribution's packages (/usr/bin/chromium + /usr/bin/chromedriver), driven by
Selenium, for the browser tests and the screenshot script. Nothing is downloaded: `make test` installs the two
packages (scripts/install-chromium.sh); Selenium Manager is never asked for a driver."""
from __future__ import annotations

import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=vi")


def available() -> str:
    """'' when both binaries are installed, else what is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    return ", ".join(missing)


def driver(width: int = 1280, height: int = 900, download_dir: Path | None = None, profile_dir: Path | None = None):
    """A Selenium Chrome driver on a fresh profile (a new --user-data-dir each time)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = profile_dir or Path(tempfile.mkdtemp(prefix="cchc-chromium-"))
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    if download_dir is not None:
        opts.add_experimental_option("prefs", {
            "download.default_directory": str(download_dir), "download.prompt_for_download": False,
            "safebrowsing.enabled": False})
    drv = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)
    if download_dir is not None:  # headless Chromium also needs to be told through DevTools
        drv.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return drv


def set_viewport(drv, width: int, height: int, mobile: bool = False) -> None:
    """Exact CSS viewport (the window size includes no browser chrome in headless mode, but be explicit)."""
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def screenshot(drv, path: Path, width: int, max_height: int = 2400, mobile: bool = False) -> tuple[int, int]:
    """PNG of the page from the top, `width` CSS px wide and as tall as the page (at most `max_height`)."""
    import base64

    set_viewport(drv, width, 800, mobile)
    height = int(drv.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)"))
    height = min(max(height, 400), max_height)
    set_viewport(drv, width, height, mobile)
    png = drv.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
    path.write_bytes(base64.b64decode(png["data"]))
    return width, height
