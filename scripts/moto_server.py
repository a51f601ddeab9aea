"""moto's server, with each request handled atomically.

DynamoDB runs each conditional write and each TransactWriteItems atomically.
moto's own `moto_server` is threaded and checks a transaction's conditions
and applies its writes without isolation from concurrent requests, so two
racing transactions can both pass. Serialising requests restores the
guarantee the real service gives, which the race tests rely on.

It also answers `GET /_test/ses/raw-messages` with just the raw messages
SES has "sent" (source and MIME text): the tests read their mail there.
moto's own `/moto-api/data.json` dumps every backend, every table with
every item included, inside the lock, so reading mail through it slowed
every other request as the run went on.

And it makes one check real DynamoDB makes and moto skips in
TransactWriteItems: every ExpressionAttributeValues key of an item must be
used by that item's expressions (moto checks only the names there), so that
a transaction DynamoDB would refuse fails here too.

Usage: python3 scripts/moto_server.py HOST PORT
"""

import json
import re
import signal
import sys
import threading

from moto.dynamodb import responses
from moto.dynamodb.exceptions import MockValidationException

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.ses.models import RawMessage, ses_backends
from werkzeug.serving import run_simple

RAW_MESSAGES = "/_test/ses/raw-messages"


def raw_messages() -> bytes:
    out = []
    for regions in list(ses_backends.values()):
        for backend in list(regions.values()):
            for message in list(backend.sent_messages):
                if isinstance(message, RawMessage):
                    out.append({"source": message.source, "raw_data": message.raw_data})
    return json.dumps(out).encode()


_transact_write_items = responses.DynamoHandler.transact_write_items


def _strict_transact_write_items(self):
    for item in self.body.get("TransactItems", []):
        for op in item.values():
            expressions = " ".join(
                op.get(k) or "" for k in ("ConditionExpression", "UpdateExpression")
            )
            unused = set(op.get("ExpressionAttributeValues") or {}) - set(
                re.findall(r":[A-Za-z0-9_]+", expressions)
            )
            if unused:
                raise MockValidationException(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}"
                    % ", ".join(sorted(unused))
                )
    return _transact_write_items(self)


responses.DynamoHandler.transact_write_items = _strict_transact_write_items


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        if environ.get("PATH_INFO") == RAW_MESSAGES:
            with lock:
                body = raw_messages()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        with lock:
            # Materialise the body inside the lock: the work happens there.
            return list(app(environ, start_response))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, serialised, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
