"""The dashboard's files: what the local runtime serves beside the API and what ``make deploy`` publishes.

The dashboard is plain ES modules in ``dashboard/site`` served as they are (no build step), plus the
chart library that ``npm ci`` installs from ``dashboard/package-lock.json`` into ``dashboard/node_modules``
and that is served under ``/vendor/``. One list of files, here, for both the local runtime and the
bucket; one rule for which paths are pages (``page_key``), mirrored by the CloudFront function of
``template.yaml`` (a test runs that function's code against this rule).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from local.stack.template import ROOT

DASHBOARD_DIR = ROOT / "dashboard"
SITE_DIR = DASHBOARD_DIR / "site"
NODE_MODULES = DASHBOARD_DIR / "node_modules"
INDEX_KEY = "index.html"
# Object key → file installed by npm (paths inside the pinned package, see package-lock.json).
VENDOR_FILES = {
    "vendor/uPlot.iife.min.js": NODE_MODULES / "uplot" / "dist" / "uPlot.iife.min.js",
    "vendor/uPlot.min.css": NODE_MODULES / "uplot" / "dist" / "uPlot.min.css",
}
# The API's paths: never a page of the dashboard, whatever follows (CloudFront routes them to the API).
API_PREFIX = "/api/"
# The app's pages (the router of site/js/main.js): each is index.html, which renders the view itself.
PAGE_PATH = re.compile(r"/|/logs/?|/logs/[^/]+|/analytics/?")
_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class DashboardNotInstalled(RuntimeError):
    """The chart library is missing: ``npm ci`` has not run in ``dashboard/``."""


@dataclass(frozen=True)
class Asset:
    key: str  # the object key in the bucket, the URL path without its leading slash
    path: Path
    content_type: str


def content_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else guessed


def dashboard_assets() -> list[Asset]:
    """Every file of the dashboard with its key and content type, the site's own then the vendored ones."""
    missing = [str(path.relative_to(ROOT)) for path in VENDOR_FILES.values() if not path.is_file()]
    if missing:
        raise DashboardNotInstalled(
            f"the dashboard's chart library is not installed ({', '.join(missing)} missing): "
            "run `make dashboard` (npm ci in dashboard/)"
        )
    site = [
        Asset(path.relative_to(SITE_DIR).as_posix(), path, content_type(path.name))
        for path in sorted(SITE_DIR.rglob("*"))
        if path.is_file()
    ]
    vendor = [Asset(key, path, content_type(key)) for key, path in VENDOR_FILES.items()]
    return site + vendor


def page_key(path: str) -> str | None:
    """The object that answers a dashboard URL path: a page of the single-page app (``/``, ``/logs``,
    ``/logs/<id>``, ``/analytics``) → ``index.html``; any other path is its own key (a file of the
    site, or nothing: a 404). An API path is never the dashboard's (the API answers it, a 404 included)."""
    if path == "/api" or path.startswith(API_PREFIX):
        return None
    if PAGE_PATH.fullmatch(path):
        return INDEX_KEY
    return path.lstrip("/") or None


class DashboardSite:
    """The dashboard for the local runtime: ``get(path)`` → (content type, body), or None when the path
    is not the dashboard's. Files are read on each request, so an edit shows on reload."""

    def __init__(self) -> None:
        self._assets = {asset.key: asset for asset in dashboard_assets()}

    def get(self, path: str) -> tuple[str, bytes] | None:
        key = page_key(path)
        asset = self._assets.get(key) if key is not None else None
        if asset is None:
            return None
        return asset.content_type, asset.path.read_bytes()
