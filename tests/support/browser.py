"""Headless Chromium for the web pages: Debian's chromium and chromedriver, driven by Selenium,
and axe-core (bundled by the selenium-axe-python package) for the accessibility check.

Nothing is fetched: the browser is the system's, axe's script comes from site-packages, and
the pages are served on loopback. Selenium is synchronous: call it from a thread
(asyncio.to_thread) while the test's event loop serves the pages.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.support.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE = (412, 915)
DESKTOP = (1280, 900)
SERIOUS = frozenset({"serious", "critical"})


def require_chromium() -> None:
    """Fail (saying how to fix it) where Debian's chromium is not installed: the test
    command installs it, and a skipped browser test would pass unseen."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"headless Chromium not installed ({', '.join(missing)} missing): "
            "run scripts/bootstrap.sh dev"
        )


@contextmanager
def chromium(profile: Path, size: tuple[int, int] = DESKTOP) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with its own profile folder (xdist-safe), always quit."""
    require_chromium()
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={size[0]},{size[1]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    service = Service(str(CHROMEDRIVER), port=free_port())
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        if size[0] < 500:  # narrower than a desktop window may be: emulate the phone
            metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": True}
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def axe_source() -> str:
    return (resources.files("selenium_axe_python") / "axe-core" / "axe.min.js").read_text(
        encoding="utf-8"
    )


def axe_violations(driver: webdriver.Chrome, impacts: frozenset[str] = SERIOUS) -> list[str]:
    """axe-core's violations of the loaded page at these impacts, one readable line each."""
    driver.execute_script(axe_source())
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r)).catch(e => done({error: String(e)}));"
    )
    if "error" in result:
        raise RuntimeError(f"axe-core failed: {result['error']}")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["html"][:120] for n in v["nodes"][:3])
        for v in result["violations"]
        if v.get("impact") in impacts
    ]


def screenshot(driver: webdriver.Chrome, path: Path) -> Path:
    """The whole page, beyond the window, as a PNG (through the DevTools protocol)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
