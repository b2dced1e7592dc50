"""What the daemon needs of this machine before it starts, refused as one line that names
the config field: the places it writes (`edge.config.preflight`) and the API's address.

`StartupError` is what `run` and `demo` print as `CONFIG: cannot start: FIELD: …` with
exit code 1 (the configuration cannot be used here), instead of the traceback a busy
port used to be (uvicorn logged the error and exited from inside the event loop).
"""

from __future__ import annotations

import errno
import socket

from edge.config import Config
from edge.config.preflight import check_places

__all__ = ["EXIT_CANNOT_START", "StartupError", "bind_api", "check_writable"]

#: The same code as an invalid config: the fix is in the config or on this machine.
EXIT_CANNOT_START = 1


class StartupError(Exception):
    """The gateway cannot start here; each of `lines` names a field and the fix."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def check_writable(config: Config, data_dir_name: str = "gateway.data_dir") -> None:
    """Make the data directories and try writing there. Raises StartupError."""
    problems = [str(p) for p in check_places(config, create=True, data_dir_name=data_dir_name)
                if p.problem is not None]  # fmt: skip
    if problems:
        raise StartupError(problems)


def bind_api(host: str, port: int) -> socket.socket:
    """A socket bound to the API's address, for uvicorn to listen on. Raises
    StartupError naming `api.port` (in use, privileged) or `api.host` (not an address
    of this machine)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as e:
        problem = f"api.host: {host} is not an address ({e.strerror}): {_HOSTS}"
        raise StartupError([problem]) from None
    sock = socket.socket(family, kind, proto)
    # As uvicorn does: a restart need not wait for the last connections' TIME_WAIT. It
    # still cannot bind where another socket listens.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise StartupError([_bind_problem(host, port, e)]) from None
    return sock


_HOSTS = "write one of this machine's addresses, 0.0.0.0 (every one) or 127.0.0.1"


def _bind_problem(host: str, port: int, e: OSError) -> str:
    if e.errno == errno.EADDRINUSE:
        return (
            f"api.port: {port} is in use on {host} (another program, or another gateway, "
            "listens there): stop it or set another api.port"
        )
    if e.errno == errno.EACCES:
        return f"api.port: {port} needs privileges here ({e.strerror}): set api.port above 1023"
    if e.errno == errno.EADDRNOTAVAIL:
        return f"api.host: {host} is not an address of this machine: {_HOSTS}"
    return f"api.port: cannot listen on {host}:{port} ({e.strerror})"
