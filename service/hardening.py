"""What create_app adds against hostile requests, in one call: the edge layer (Host check,
HEAD, security headers), the configured site base URL for JSON-LD, and lookups that would
otherwise be built on the event loop by the first unlucky request."""

from __future__ import annotations

from litestar import Litestar

from principles.settings import Settings
from service.edge import install_edge
from service.index import IndexView


def harden(app: Litestar, settings: Settings, view: IndexView) -> None:
    install_edge(app, settings.allowed_hosts)
    app.state["site_base_url"] = settings.site_base()
    _ = view.near_paths  # the 404 suggestion index: ~0.1 s at 100k paths, paid at start
    _ = view.page_types
