"""A fake group robot on 127.0.0.1 for the tests and the benchmark: it answers as WeCom's and
DingTalk's robots do (HTTP 200 with an `errcode`), or as told (a 500, an errcode), and records
what it accepted. A request whose client hung up before the answer was written is not
counted as accepted (as if the robot had not posted it)."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Robot:
    url: str
    accepted: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    # Answers to give, in order, before answering ok: an int is an HTTP status, a dict the JSON
    # body of an HTTP 200 (e.g. {"errcode": 45009, "errmsg": "…"}).
    script: list = field(default_factory=list)
    # Seconds to wait before answering the next request (the worker-killed test).
    stall: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self):
        with self.lock:
            return self.script.pop(0) if self.script else {"errcode": 0, "errmsg": "ok"}


def _client_gone(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def start_robot(path: str = "/cgi-bin/webhook/send?key=test-key-1234"):
    state: Robot

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            query = parse_qs(urlsplit(self.path).query)
            entry = {"path": self.path, "query": query, "json": json.loads(body),
                     "at": time.time()}
            state.requests.append(entry)
            if state.stall:
                stall, state.stall = state.stall, 0.0
                time.sleep(stall)
            answer = state.next_answer()
            status, payload = (answer, {"error": "busy"}) if isinstance(answer, int) \
                else (200, answer)
            data = json.dumps(payload).encode()
            if _client_gone(self.connection):
                return  # the sender died while we waited: nothing was posted
            if status == 200 and payload.get("errcode") == 0:
                with state.lock:
                    state.accepted.append(entry)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:
                return

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Robot(url=f"http://127.0.0.1:{server.server_address[1]}{path}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return state, stop
