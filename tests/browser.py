"""Headless Chromium for the map tests: open a page offline, screenshot it, dump its DOM.

The machine has no internet. A copy of the page points its Leaflet links at the copy npm
installed in build/npm (``make system-deps`` puts it there) and any other remote script or
stylesheet at an empty local stub, so nothing waits on a CDN. Chromium resolves no host but
127.0.0.1, so basemap tile requests fail at once and no traffic leaves the machine.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "build" / "npm" / "node_modules"
LEAFLET_CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/leaflet@[^/\"]+/dist/")
REMOTE_SCRIPT = re.compile(r'(<script\b[^>]*\bsrc=")https?://[^"]*(")')
REMOTE_STYLE = re.compile(r'(<link\b[^>]*\bhref=")https?://[^"]*(")')
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=10000", "--window-size=1200,900",
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def leaflet() -> Path | None:
    """Leaflet's dist folder from npm, or None when ``make system-deps`` has not run."""
    dist = NODE_MODULES / "leaflet" / "dist"
    return dist if (dist / "leaflet.js").exists() else None


def missing() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if chromium() is None:
        return "chromium is not installed (make test installs it with apt when run as root)"
    if leaflet() is None:
        return f"Leaflet is not in {NODE_MODULES} (make test installs it with npm)"
    return None


def offline_copy(page: Path, folder: Path) -> Path:
    """The page as index.html in ``folder`` with Leaflet local and other remote assets stubbed."""
    text = page.read_text(encoding="utf-8")
    text = LEAFLET_CDN.sub("/npm/leaflet/dist/", text)
    text = REMOTE_SCRIPT.sub(r"\1/stub.js\2", text)
    text = REMOTE_STYLE.sub(r"\1/stub.css\2", text)
    (folder / "stub.js").write_text("", encoding="utf-8")
    (folder / "stub.css").write_text("", encoding="utf-8")
    (folder / "npm").symlink_to(NODE_MODULES, target_is_directory=True)
    out = folder / "index.html"
    out.write_text(text, encoding="utf-8")
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class names it so
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 from a thread; yield its base URL."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run(url: str, profile: Path, *args: str, timeout: float = 90) -> str:
    """Run headless Chromium on ``url`` with extra flags; return its stdout."""
    profile.mkdir(parents=True, exist_ok=True)
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def screenshot(url: str, png: Path, profile: Path) -> Path:
    run(url, profile, f"--screenshot={png}")
    return png


def dump_dom(url: str, profile: Path) -> str:
    return run(url, profile, "--dump-dom")
