"""Container healthcheck: exit 0 when this host's /readyz answers 200 (no curl in the image)."""

from __future__ import annotations

import http.client
import os
import sys

from finsig.settings import DEFAULT_PORT


def check(port: int, timeout: float = 3.0) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def main() -> int:
    port = int(os.environ.get("FINSIG_PORT") or DEFAULT_PORT)
    return 0 if check(port) else 1


if __name__ == "__main__":
    sys.exit(main())
