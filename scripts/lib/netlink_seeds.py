"""Writes real rtnetlink reply datagrams from the current namespace into
DIR, one file each: dumps of links, addresses (v4 and v6), routes (v4 and
v6) and neighbours, one GET, and a refused request (NLMSG_ERROR with the
kernel's extended ack). The fuzz target netlink_reply starts from these."""

import os
import socket
import struct
import sys

NETLINK_ROUTE = 0
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
RTM_GETLINK, RTM_DELLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH = 18, 17, 22, 26, 30
NETLINK_EXT_ACK = 11
AF_UNSPEC, AF_INET, AF_INET6 = 0, 2, 10


def request(kind, flags, body, seq):
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def ifinfo(family=AF_UNSPEC, index=0, attrs=b""):
    return struct.pack("=BxHiII", family, 0, index, 0, 0) + attrs


def rta(kind, data):
    n = 4 + len(data)
    return struct.pack("=HH", n, kind) + data + b"\0" * ((4 - n % 4) % 4)


def main(out):
    os.makedirs(out, exist_ok=True)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    s.setsockopt(270, NETLINK_EXT_ACK, 1)
    s.bind((0, 0))
    reqs = [
        ("dump-links", request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, ifinfo(), 1)),
        ("dump-addr4", request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBBBI", AF_INET, 0, 0, 0, 0), 2)),
        ("dump-addr6", request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBBBI", AF_INET6, 0, 0, 0, 0), 3)),
        ("dump-route4", request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBBBBBBBI", AF_INET, 0, 0, 0, 0, 0, 0, 0, 0), 4)),
        ("dump-route6", request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBBBBBBBI", AF_INET6, 0, 0, 0, 0, 0, 0, 0, 0), 5)),
        ("dump-neigh", request(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BxxxiHBB", AF_UNSPEC, 0, 0, 0, 0), 6)),
        ("get-lo", request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfo(attrs=rta(3, b"lo\0")), 7)),
        ("error-extack", request(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfo(index=999999), 8)),
    ]
    n = 0
    for name, req in reqs:
        s.send(req)
        part = 0
        while True:
            data = s.recv(1 << 16)
            with open(os.path.join(out, f"{name}-{part}"), "wb") as f:
                f.write(data)
            n += 1
            part += 1
            # DONE (3) or ERROR (2) ends the answer.
            kinds = []
            off = 0
            while off + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                kinds.append(kind)
                off += max((length + 3) & ~3, 16)
            if 3 in kinds or 2 in kinds:
                break
    print(f"{n} datagrams written to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
