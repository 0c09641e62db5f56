"""cffi build script for the DSP kernels (``bassd.dsp._dspcore``); setup.py runs it."""

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef(
    "void bassd_sosfilt(const double *sos, int sections, double *zi, const double *x,"
    " double *y, long frames, int channels);"
)
ffibuilder.set_source(
    "bassd.dsp._dspcore",
    '#include "sos.h"',
    sources=[os.path.relpath(HERE / "sos.c")],
    include_dirs=[os.path.relpath(HERE)],
    extra_compile_args=["-O2", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
