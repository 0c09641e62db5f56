"""cffi build script for batch UDP receive (``bassd.control._udpbatch``); setup.py runs it.

``udp_batch.c``: one ``recvmmsg(2)`` call per batch of datagrams, with peers
(see ``control/udp_batch.py`` for the Python side and its ``recvfrom`` fallback).
"""

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef(
    """
    #define BASSD_UDP_MAX_BATCH 256
    #define BASSD_UDP_HOST_LEN 48
    int bassd_udp_has_recvmmsg(void);
    int bassd_udp_recv_batch(int fd, char *buf, int slot, int n, int *lens,
                             char (*hosts)[48], int *ports, int *same);
    """
)
ffibuilder.set_source(
    "bassd.control._udpbatch",
    '#include "udp_batch.h"',
    sources=[os.path.relpath(HERE / "udp_batch.c")],
    include_dirs=[os.path.relpath(HERE)],
    extra_compile_args=["-O2", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
