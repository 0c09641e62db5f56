"""cffi build script for the DSP kernels (``bassd.dsp._dspcore``); setup.py runs it.

The kernels: ``sos.c`` (streaming filters), ``fx.c`` (the master post-FX chain, also
compiled into the audio callback's core), ``bank.c`` (the control-rate
step of the oscillator bank) and ``peaks.c`` (per-frame spectral peak picking). The
declarations are read from their headers.
"""

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
HEADERS = ("sos.h", "fx.h", "bank.h", "peaks.h")


def declarations(path: Path) -> str:
    """A header as cffi's cdef takes it: its integer #defines kept, comments and the other
    preprocessor lines dropped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        bare = line.split("/*")[0].rstrip()
        if bare.lstrip().startswith("#"):
            words = bare.split()
            if words[0] == "#define" and len(words) == 3:
                out.append(" ".join(words))
            continue
        out.append(line)
    return "\n".join(out)


ffibuilder.cdef("\n".join(declarations(HERE / h) for h in HEADERS))
ffibuilder.set_source(
    "bassd.dsp._dspcore",
    "".join(f'#include "{h}"\n' for h in HEADERS),
    sources=[os.path.relpath(HERE / f"{h[:-2]}.c") for h in HEADERS],
    include_dirs=[os.path.relpath(HERE)],
    extra_compile_args=["-O3", "-std=c11", "-D_POSIX_C_SOURCE=200809L"],
    libraries=["m"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
