"""cffi build script for the DSP kernels (``bassd.dsp._dspcore``); setup.py runs it.

The kernels: ``sos.c`` (the post-FX filters) and ``bank.c`` (the control-rate
step of the oscillator bank). The declarations are read from their headers.
"""

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
HEADERS = ("sos.h", "bank.h")


def _declarations(name: str) -> str:
    """A header without its preprocessor lines (what cffi's cdef accepts)."""
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


ffibuilder.cdef("\n".join(_declarations(h) for h in HEADERS))
ffibuilder.set_source(
    "bassd.dsp._dspcore",
    '#include "sos.h"\n#include "bank.h"',
    sources=[os.path.relpath(HERE / "sos.c"), os.path.relpath(HERE / "bank.c")],
    include_dirs=[os.path.relpath(HERE)],
    extra_compile_args=["-O3", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
