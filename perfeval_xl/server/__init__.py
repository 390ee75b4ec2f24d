"""The bureau's checking service (issue 13): `perfeval serve`. Needs the [server] extra (fastapi, uvicorn,
python-multipart). See docs/server.md."""
from __future__ import annotations

from .config import ServerConfig, load_server_config

__all__ = ["ServerConfig", "load_server_config", "create_app"]


def create_app(config: ServerConfig | None = None):
    from .app import create_app as _create

    return _create(config)
