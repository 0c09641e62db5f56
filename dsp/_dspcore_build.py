"""cffi build script for the DSP kernels (``bassd.dsp._dspcore``); setup.py runs it.

The kernels: ``sos.c`` (the post-FX filters), ``bank.c`` (the control-rate
step of the oscillator bank) and ``peaks.c`` (per-frame spectral peak picking). The
declarations are read from their headers.
"""

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
HEADERS = ("sos.h", "bank.h", "peaks.h")


def _declarations(name: str) -> str:
    """A header without its preprocessor lines (what cffi's cdef accepts)."""
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


ffibuilder.cdef("\n".join(_declarations(h) for h in HEADERS))
ffibuilder.set_source(
    "bassd.dsp._dspcore",
    "".join(f'#include "{h}"\n' for h in HEADERS),
    sources=[os.path.relpath(HERE / f"{h[:-2]}.c") for h in HEADERS],
    include_dirs=[os.path.relpath(HERE)],
    extra_compile_args=["-O3", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
