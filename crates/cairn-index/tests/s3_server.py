"""An S3-protocol server on loopback for the shared-collection tests, failing the way S3 fails.

moto's server mode is the object store (buckets, objects, multipart uploads, conditional puts with
`If-None-Match: *`). In front of it runs a small HTTP proxy that passes every request through and,
when told, answers as a throttled S3 does (503 SlowDown) or drops the connection halfway through an
upload. The proxy also counts what it saw, so a test can check that a failure really happened.

Protocol, one line each way: prints `ready PORT` once serving on 127.0.0.1:PORT (the proxy's port),
then reads commands from stdin and answers each with one line:

  slowdown N   the next N requests get 503 SlowDown               -> ok
  drop N       the next N requests that carry a body lose their    -> ok
               connection after half the body has arrived
  stats        counters as JSON: requests, slowdowns, drops,       -> {...}
               conflicts (412 answers from the store), puts
  bucket NAME  creates a bucket                                    -> ok
  offline      the network is gone: the port refuses connections,  -> ok
               and open connections close without an answer
  online       the network is back, on the same port               -> ok

The process exits when stdin closes.
"""

import http.client
import json
import logging
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.server import ThreadedMotoServer

SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
    b"<RequestId>cairn-test</RequestId></Error>"
)


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.slowdowns_left = 0
        self.drops_left = 0
        self.offline = False
        self.counts = {"requests": 0, "slowdowns": 0, "drops": 0, "conflicts": 0, "puts": 0}

    def take(self, has_body):
        """What to do with the next request: 'slowdown', 'drop' or None."""
        with self.lock:
            self.counts["requests"] += 1
            if self.slowdowns_left > 0:
                self.slowdowns_left -= 1
                self.counts["slowdowns"] += 1
                return "slowdown"
            if has_body and self.drops_left > 0:
                self.drops_left -= 1
                self.counts["drops"] += 1
                return "drop"
            return None

    def count(self, name):
        with self.lock:
            self.counts[name] += 1


def proxy_handler(upstream_port, faults):
    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def relay(self):
            if faults.offline:
                # A kept-alive connection from before the network went: it ends, unanswered.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            length = int(self.headers.get("Content-Length") or 0)
            action = faults.take(length > 0)
            if action == "drop":
                # Half the upload arrives, then the connection is gone: no response at all.
                self.rfile.read(length // 2)
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else None
            if action == "slowdown":
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(SLOWDOWN)))
                self.end_headers()
                self.wfile.write(SLOWDOWN)
                return
            if self.command == "PUT":
                faults.count("puts")
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            conn.close()
            if response.status == 412:
                faults.count("conflicts")
            if os.environ.get("CAIRN_S3_LOG"):
                print(self.command, self.path, response.status, self.headers.get("Range"),
                      self.headers.get("If-None-Match"), len(data), file=sys.stderr, flush=True)
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in ("content-length", "connection", "transfer-encoding",
                                        "server", "date"):
                    self.send_header(name, value)
            # A HEAD answer has no body but tells the object's length.
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

    return Proxy


def main():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    store = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    store.start()
    _, upstream_port = store.get_host_and_port()
    faults = Faults()

    def serve(port):
        server = ThreadingHTTPServer(("127.0.0.1", port), proxy_handler(upstream_port, faults))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    proxy = serve(0)
    port = proxy.server_address[1]
    print(f"ready {port}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "slowdown":
            with faults.lock:
                faults.slowdowns_left = int(words[1])
            print("ok", flush=True)
        elif words[0] == "drop":
            with faults.lock:
                faults.drops_left = int(words[1])
            print("ok", flush=True)
        elif words[0] == "stats":
            with faults.lock:
                print(json.dumps(faults.counts), flush=True)
        elif words[0] == "offline":
            faults.offline = True
            if proxy is not None:
                proxy.shutdown()
                proxy.server_close()
                proxy = None
            print("ok", flush=True)
        elif words[0] == "online":
            faults.offline = False
            if proxy is None:
                proxy = serve(port)
            print("ok", flush=True)
        elif words[0] == "bucket":
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            conn.request("PUT", f"/{words[1]}")
            response = conn.getresponse()
            response.read()
            print("ok" if response.status == 200 else f"error {response.status}", flush=True)
        else:
            print(f"error unknown command {words[0]}", flush=True)
    if proxy is not None:
        proxy.shutdown()
    store.stop()


if __name__ == "__main__":
    main()
