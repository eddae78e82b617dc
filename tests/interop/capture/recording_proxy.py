#!/usr/bin/python3
"""Loopback TCP proxy that records Kafka frames, for golden vector captures.

Listens on one 127.0.0.1 port per mock broker and forwards each accepted
connection to that broker's real port.  Bytes are forwarded unchanged; each
direction is also split into Kafka frames (int32 big-endian size + that many
bytes) and every complete frame is appended, size prefix included, to

    <out-root>/<capture>/connNN-brokerB.requests.bin   (client -> broker)
    <out-root>/<capture>/connNN-brokerB.responses.bin  (broker -> client)

NN counts connections of one capture in accept order, B is the broker id the
listening port stands for.  <capture> is read, when a connection is accepted,
from --capture-file; an empty file or "-" means forward without recording.
Files are only created once a frame arrives.  A trailing partial frame (a peer
that vanished mid-frame) is reported on stderr and not written.

The proxy's ports are chosen by the kernel and written to --ports-file
("P1,P2,..." for brokers 1..N) so the mock can advertise them; the mock's real
ports are read from --broker-file (lines "<id> <real port> <advertised port>")
when the first connection to a broker arrives.  --status-file holds the number
of open connections, so a driver can wait for a client's connections to end.

Standard library only; run with /usr/bin/python3.
"""

import argparse
import os
import signal
import socket
import struct
import sys
import threading
import time

MAX_FRAME = 64 * 1024 * 1024  # refuse to buffer more than this per frame


class Recorder:
    """Splits one direction of a connection into frames and appends them."""

    def __init__(self, path):
        self.path = path  # None: forward only
        self.buffer = bytearray()
        self.file = None
        self.frames = 0

    def feed(self, data):
        if self.path is None:
            return
        self.buffer += data
        while len(self.buffer) >= 4:
            (size,) = struct.unpack_from(">i", self.buffer, 0)
            if size < 0 or size > MAX_FRAME:
                print(f"proxy: {self.path}: bad frame size {size}, recording stopped",
                      file=sys.stderr)
                self.path = None
                return
            if len(self.buffer) < 4 + size:
                return
            if self.file is None:
                self.file = open(self.path, "ab")
            self.file.write(self.buffer[:4 + size])
            self.file.flush()
            self.frames += 1
            del self.buffer[:4 + size]

    def close(self):
        if self.path is not None and self.buffer:
            print(f"proxy: {self.path}: {len(self.buffer)} trailing bytes of an "
                  "incomplete frame not written", file=sys.stderr)
        if self.file is not None:
            self.file.close()


class Proxy:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.active = 0
        self.conn_counters = {}  # capture name -> last connection number
        self.upstream_ports = {}

    def set_active(self, delta):
        with self.lock:
            self.active += delta
            if self.args.status_file:
                tmp = self.args.status_file + ".tmp"
                with open(tmp, "w") as f:
                    f.write(f"{self.active}\n")
                os.replace(tmp, self.args.status_file)

    def upstream_port(self, broker_id):
        deadline = time.monotonic() + 10
        while broker_id not in self.upstream_ports:
            try:
                with open(self.args.broker_file) as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) >= 2:
                            self.upstream_ports[int(parts[0])] = int(parts[1])
            except FileNotFoundError:
                pass
            if broker_id in self.upstream_ports:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no real port for broker {broker_id}")
            time.sleep(0.05)
        return self.upstream_ports[broker_id]

    def current_capture(self):
        try:
            with open(self.args.capture_file) as f:
                name = f.read().strip()
        except FileNotFoundError:
            return None
        if not name or name == "-":
            return None
        if "/" in name or name.startswith("."):
            raise ValueError(f"bad capture name {name!r}")
        return name

    def paths_for(self, broker_id):
        capture = self.current_capture()
        if capture is None:
            return None, None
        directory = os.path.join(self.args.out_root, capture)
        os.makedirs(directory, exist_ok=True)
        with self.lock:
            number = self.conn_counters.get(capture, 0) + 1
            self.conn_counters[capture] = number
        stem = os.path.join(directory, f"conn{number:02d}-broker{broker_id}")
        return stem + ".requests.bin", stem + ".responses.bin"

    def pump(self, source, sink, recorder):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                recorder.feed(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def serve_connection(self, client, broker_id):
        self.set_active(+1)
        upstream = None
        try:
            upstream = socket.create_connection(
                ("127.0.0.1", self.upstream_port(broker_id)), timeout=10)
            upstream.settimeout(None)
            request_path, response_path = self.paths_for(broker_id)
            requests = Recorder(request_path)
            responses = Recorder(response_path)
            back = threading.Thread(target=self.pump, args=(upstream, client, responses),
                                    daemon=True)
            back.start()
            self.pump(client, upstream, requests)
            back.join()
            requests.close()
            responses.close()
        except Exception as error:  # a failed connection must not stop the proxy
            print(f"proxy: broker {broker_id}: {error}", file=sys.stderr)
        finally:
            for s in (client, upstream):
                if s is not None:
                    s.close()
            self.set_active(-1)

    def accept_loop(self, server, broker_id):
        while True:
            client, _ = server.accept()
            threading.Thread(target=self.serve_connection, args=(client, broker_id),
                             daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", type=int, default=3)
    parser.add_argument("--ports-file", required=True)
    parser.add_argument("--broker-file", required=True)
    parser.add_argument("--capture-file", required=True)
    parser.add_argument("--out-root", required=True)
    parser.add_argument("--status-file")
    parser.add_argument("--seconds", type=int, default=600,
                        help="exit after this long (a bound for unattended runs)")
    args = parser.parse_args()

    proxy = Proxy(args)
    proxy.set_active(0)
    ports = []
    for broker_id in range(1, args.brokers + 1):
        server = socket.create_server(("127.0.0.1", 0))
        ports.append(server.getsockname()[1])
        threading.Thread(target=proxy.accept_loop, args=(server, broker_id),
                         daemon=True).start()
    tmp = args.ports_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(",".join(str(p) for p in ports) + "\n")
    os.replace(tmp, args.ports_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait(args.seconds)


if __name__ == "__main__":
    main()
