"""A JSON-RPC node on 127.0.0.1 with canned answers, for commands that take a node URL.

It stands in for an outside node (geth, Bitcoin Core), never for a part of Kinko: each
test gives the answers a real node would give, or the incomplete ones some do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[list[Any]], Any]


@contextmanager
def json_rpc_node(answers: dict[str, Answer]) -> Iterator[str]:
    """Serve `answers` (method -> params -> result) until the block ends; yields the URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            method = request["method"]
            if method in answers:
                reply = {"result": answers[method](request.get("params", []))}
            else:
                reply = {"error": {"code": -32601, "message": f"the method {method} is unknown"}}
            body = json.dumps({"jsonrpc": "2.0", "id": request["id"], **reply}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
