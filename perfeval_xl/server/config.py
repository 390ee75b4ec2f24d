"""The service's own settings: the [server] table of the bureau's perfeval.toml.

    [server]
    token = "…"                     # clients send "Authorization: Bearer …" (or X-Perfeval-Token)
    allow = ["10.12.0.0/16"]        # networks allowed to reach the service
    max_upload_mb = 20              # an uploaded workbook
    max_payload_mb = 20             # the JSON the Office.js client sends
    archive = "/srv/perfeval/存档"   # keep each upload, its findings and marked copy (off by default)
    max_concurrent = 4              # checks running at once; the rest wait their turn
    public_url = "https://perfeval.czj.example.gov.cn"   # as clients see it (the add-in manifest uses it)

The rest of the file is the rules' settings (perfeval_xl.settings), applied to every request.
With neither token nor allow set, only the loopback address may be served (ServerConfig.open_to_network).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from ..errors import ConfigError

MB = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    rules_config: str | None = None  # the perfeval.toml whose rule settings apply to every request
    token: str = ""
    allow: tuple = ()  # ipaddress networks
    max_upload_bytes: int = 20 * MB
    max_payload_bytes: int = 20 * MB
    archive: str | None = None
    public_url: str = ""  # https://perfeval.czj.example.gov.cn as clients see it (behind a reverse proxy)
    max_concurrent: int = 4
    settings_error: str | None = field(default=None, compare=False)  # the rules' settings file is wrong

    @property
    def guarded(self) -> bool:
        """A token or an allow-list stands between the network and the checks."""
        return bool(self.token or self.allow)

    def allows(self, host: str | None) -> bool:
        """Whether a client address may talk to the service at all (loopback only when unguarded)."""
        try:
            addr = ipaddress.ip_address(host or "")
        except ValueError:
            # TestClient and Unix sockets give a name, not an address; treat as local only when unguarded
            return host in ("testclient", "localhost") and not self.allow
        if getattr(addr, "ipv4_mapped", None):
            addr = addr.ipv4_mapped
        if self.allow:
            return addr.is_loopback or any(addr in net for net in self.allow)
        if self.token:
            return True
        return addr.is_loopback


_KEYS = {"token", "allow", "max_upload_mb", "max_payload_mb", "archive", "max_concurrent", "public_url"}


def _positive(table: dict, key: str, default: float, path: str) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise ConfigError(f"设置文件 {path}：[server] {key} 应为正数，而不是 {v!r}")
    return v


def load_server_config(path: str | None = None, **overrides) -> ServerConfig:
    """Read [server] from path (perfeval.toml, or a pyproject.toml's [tool.perfeval.server]).

    Raises ConfigError (Chinese) for a wrong value; overrides (token=..., archive=...) win over the file."""
    table: dict = {}
    if path:
        from ..settings import read_perfeval_table

        table = read_perfeval_table(path).get("server", {}) or {}
        if not isinstance(table, dict):
            raise ConfigError(f"设置文件 {path}：[server] 应为一个表")
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise ConfigError(f"设置文件 {path}：[server] 中没有设置项 {'、'.join(unknown)}"
                              f"（可用：{'、'.join(sorted(_KEYS))}）")
    table.update({k: v for k, v in overrides.items() if v is not None})
    where = path or "命令行"
    token = table.get("token", "")
    if not isinstance(token, str):
        raise ConfigError(f"设置文件 {where}：[server] token 应为字符串")
    if token and len(token) < 16:
        raise ConfigError(f"设置文件 {where}：[server] token 太短（{len(token)} 个字符），至少 16 个字符")
    allow = table.get("allow", [])
    if isinstance(allow, str):
        allow = [allow]
    nets = []
    for a in allow:
        try:
            nets.append(ipaddress.ip_network(str(a).strip(), strict=False))
        except ValueError:
            raise ConfigError(f"设置文件 {where}：[server] allow 中的 {a!r} 不是网络地址（例：10.12.0.0/16）") from None
    archive = table.get("archive") or None
    if archive is not None:
        archive = os.path.abspath(os.path.expanduser(str(archive)))
    return ServerConfig(
        rules_config=os.path.abspath(path) if path else None,
        token=token,
        allow=tuple(nets),
        max_upload_bytes=int(_positive(table, "max_upload_mb", 20, where) * MB),
        max_payload_bytes=int(_positive(table, "max_payload_mb", 20, where) * MB),
        archive=archive,
        public_url=str(table.get("public_url", "")).rstrip("/"),
        max_concurrent=int(_positive(table, "max_concurrent", 4, where)),
    )
