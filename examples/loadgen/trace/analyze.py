#!/usr/bin/env python3
"""Summarises one traced connection for examples/loadgen/trace.sh.

usage: analyze.py PCAP PORT STRACE

PCAP: a tcpdump capture on lo (Ethernet link type); PORT: the server's port; STRACE: the
server's `strace -f` output. Prints the segment timeline (WebSocket frames decoded), then the
counts up to the Socket.IO CONNECT reply (and, with an upgrade, up to the client's `5`): TCP
segments, segments with data each way, turns (a direction change of data: one round trip is
two), and the server's syscalls on the accepted sockets.
"""
import re
import struct
import sys

CONNECT = re.compile(rb'40\{"sid":"[^"]*"(,"pid":"[^"]*")?\}')


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off : off + 16])
        frame = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:
            frame = frame[14:]
        elif linktype == 113:  # Linux cooked
            frame = frame[16:]
        if len(frame) < 20 or frame[0] >> 4 != 4:
            continue
        ihl = (frame[0] & 15) * 4
        total = struct.unpack(">H", frame[2:4])[0]
        tcp = frame[ihl:total]
        sport, dport, seq, ack, off_flags = struct.unpack(">HHIIH", tcp[:14])
        thl = (off_flags >> 12) * 4
        flags = off_flags & 0x3F
        yield t, sport, dport, seq, flags, tcp[thl:]


def flag_str(flags):
    names = [(0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"), (0x10, ".")]
    return "".join(n for bit, n in names if flags & bit)


class Stream:
    """One direction of one connection: HTTP until an upgrade's head ends, then frames."""

    def __init__(self):
        self.buf = b""
        self.http = True

    def feed(self, data):
        self.buf += data
        out = []
        while self.buf:
            if self.http:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = self.buf[: end + 4]
                first = head.split(b"\r\n", 1)[0].decode(errors="replace")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                n = int(length.group(1)) if length else 0
                if len(self.buf) < end + 4 + n:
                    break
                body = self.buf[end + 4 : end + 4 + n]
                self.buf = self.buf[end + 4 + n :]
                out.append(("http", first + (f" +{n}B body {body[:60]!r}" if n else ""), body))
                if b" 101 " in first.encode() or re.search(rb"(?i)\r\nupgrade: *websocket", head):
                    self.http = False
            else:
                if len(self.buf) < 2:
                    break
                b0, b1 = self.buf[0], self.buf[1]
                n, at = b1 & 0x7F, 2
                if n == 126:
                    n, at = struct.unpack(">H", self.buf[2:4])[0], 4
                elif n == 127:
                    n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
                mask = None
                if b1 & 0x80:
                    mask, at = self.buf[at : at + 4], at + 4
                if len(self.buf) < at + n:
                    break
                payload = bytearray(self.buf[at : at + n])
                if mask:
                    for i in range(n):
                        payload[i] ^= mask[i % 4]
                self.buf = self.buf[at + n :]
                out.append(("ws", f"ws op{b0 & 15} {bytes(payload[:60])!r}", bytes(payload)))
        return out


def main():
    pcap, port, strace_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    pkts = list(packets(pcap))
    if not pkts:
        sys.exit("analyze: empty capture")
    t0 = pkts[0][0]
    streams = {}
    rows = []
    done_at = None
    want_upgrade = False
    conns = set()
    for t, sport, dport, seq, flags, payload in pkts:
        to_server = dport == port
        client_port = sport if to_server else dport
        conns.add(client_port)
        key = (client_port, to_server)
        items = streams.setdefault(key, Stream()).feed(payload) if payload else []
        mark = ""
        for kind, text, body in items:
            if kind == "http" and to_server and "transport=polling" in text and "sid=" not in text:
                want_upgrade = True
            if not to_server and CONNECT.search(body):
                mark += " <- CONNECT reply"
            if kind == "ws" and to_server and body == b"5":
                mark += " <- upgrade done"
        rows.append((t - t0, to_server, client_port, flags, len(payload), items, mark))
    # Where the trace ends: the CONNECT reply, or with an upgrade the later of it and the `5`.
    end = None
    seen_connect = seen_upgrade = False
    for i, r in enumerate(rows):
        seen_connect |= "CONNECT" in r[6]
        seen_upgrade |= "upgrade done" in r[6]
        if seen_connect and (seen_upgrade or not want_upgrade):
            end = i
            break
    if end is None:
        print("analyze: the capture has no CONNECT reply (or no upgrade)")
        end = len(rows) - 1
    print(f"{'ms':>8}  dir  conn   flags  len  content")
    for i, (t, to_server, cport, flags, n, items, mark) in enumerate(rows[: end + 1]):
        arrow = "C>S" if to_server else "S>C"
        text = "; ".join(x[1] for x in items) if items else ""
        print(f"{t * 1000:8.3f}  {arrow}  {cport:5}  {flag_str(flags):>5}  {n:4}  {text[:110]}{mark}")
    upto = rows[: end + 1]
    data = [r for r in upto if r[4] > 0]
    turns = sum(1 for a, b in zip(data, data[1:]) if a[1] != b[1])
    c2s = sum(1 for r in data if r[1])
    s2c = len(data) - c2s
    syns = sum(1 for r in upto if r[3] & 0x02 and not r[3] & 0x10)
    print(
        f"SUMMARY segments={len(upto)} data_c2s={c2s} data_s2c={s2c} turns={turns} tcp_connections={syns}"
        f" pure_acks={sum(1 for r in upto if r[4] == 0 and r[3] == 0x10)} elapsed_ms={upto[-1][0] * 1000:.2f}"
    )
    strace_summary(strace_path, t0 + upto[-1][0])


def strace_summary(path, until):
    """Syscalls on accepted sockets, from the first accept to the end of the trace (strace's
    -ttt wall clock against the capture's)."""
    fds = set()
    counts = {}
    call = re.compile(r"^(?:\[pid +\d+\] |\d+ +)?(\d+\.\d+) (\w+)\((\d+)?")
    pending = {}
    with open(path, errors="replace") as f:
        for line in f:
            # A call another thread interrupted is split in two lines: join them.
            pid = line.split(" ", 1)[0]
            if line.rstrip().endswith("<unfinished ...>"):
                pending[pid] = line.rstrip()[: -len("<unfinished ...>")]
                continue
            resumed = re.search(r"<\.\.\. \w+ resumed>", line)
            if resumed:
                if pid not in pending:
                    continue
                line = pending.pop(pid) + line[resumed.end() :]
            m = call.match(line)
            if not m:
                continue
            if float(m.group(1)) > until + 0.0005:
                continue
            name, fd = m.group(2), m.group(3)
            if name in ("accept", "accept4"):
                r = re.search(r"= (\d+)$", line.strip())
                if r:
                    fds.add(r.group(1))
                    counts[name] = counts.get(name, 0) + 1
                continue
            if fd is not None and fd in fds:
                if "EAGAIN" in line:
                    name += "(EAGAIN)"
                counts[name] = counts.get(name, 0) + 1
    writes = sum(v for k, v in counts.items() if k.split("(")[0] in ("write", "writev", "sendto", "sendmsg") and "EAGAIN" not in k)
    reads = sum(v for k, v in counts.items() if k.split("(")[0] in ("read", "readv", "recvfrom", "recvmsg"))
    detail = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    print(f"SYSCALLS writes={writes} reads={reads} (up to the end of the trace) {detail}")


if __name__ == "__main__":
    main()
