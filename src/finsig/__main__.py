"""`finsig`: read the settings, log JSON lines, serve until SIGTERM/SIGINT, exit 0."""

from __future__ import annotations

import json
import signal
import sys
from types import FrameType

import uvicorn

from finsig.app import create_app
from finsig.logs import configure_logging
from finsig.settings import Settings, SettingsError

EXIT_CONFIG = 2
GRACEFUL_SHUTDOWN_SECONDS = 8


def _absorb_signal(signum: int, frame: FrameType | None) -> None:
    """Installed under uvicorn's own handlers: after a graceful shutdown uvicorn re-raises the
    signal it caught, and this absorbs it so the process exits 0 instead of dying by it."""


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        message = f"configuration error: {exc}"
        problem = {"level": "CRITICAL", "message": message, "setting": exc.name}
        print(json.dumps(problem), file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level_number)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    signal.signal(signal.SIGTERM, _absorb_signal)
    signal.signal(signal.SIGINT, _absorb_signal)
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
