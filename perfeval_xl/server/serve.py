"""Starting the service: where it may listen, and its logs (one JSON object a line, on stderr)."""
from __future__ import annotations

import ipaddress
import socket

from ..errors import ConfigError
from .config import ServerConfig


def is_loopback_host(host: str) -> bool:
    """Whether every address host resolves to is a loopback address."""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def check_bind(host: str, config: ServerConfig) -> None:
    """With neither a token nor an allow-list configured, only the loopback address may be served."""
    if not config.guarded and not is_loopback_host(host):
        raise ConfigError(
            f"未配置访问口令（token）或允许网段（allow），只能在本机地址（127.0.0.1）上提供服务，不能监听 {host}。"
            "请在设置文件的 [server] 表中设置 token 或 allow（见 docs/server.md）")


def log_config() -> dict:
    """uvicorn's logging, with our structured lines passed through as they are."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["err"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "perfeval.server": {"handlers": ["err"], "level": "INFO", "propagate": False},
        },
    }
