"""moto's server, with each request handled atomically.

DynamoDB runs each conditional write and each TransactWriteItems atomically.
moto's own `moto_server` is threaded and checks a transaction's conditions
and applies its writes without isolation from concurrent requests, so two
racing transactions can both pass. Serialising requests restores the
guarantee the real service gives, which the race tests rely on.

Usage: python3 scripts/moto_server.py HOST PORT
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Materialise the body inside the lock: the work happens there.
            return list(app(environ, start_response))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, serialised, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
