"""cffi build script for the real-time core (``bassd.engine._rtcore``).

The C sources sit beside this file; setup.py runs it at install time.
"""

import importlib.util
import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
DSP = HERE.parent / "dsp"  # the post-FX chain (fx.c) is compiled into this core too


def _fx_declarations() -> str:
    spec = importlib.util.spec_from_file_location("_dspcore_build", DSP / "_dspcore_build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return str(build.declarations(DSP / "fx.h"))


ffibuilder = FFI()
ffibuilder.cdef(_fx_declarations())
ffibuilder.cdef(
    """
    #define BASSD_RING_HEADER_BYTES 256
    #define BASSD_RING_MAGIC 0x62617373
    #define BASSD_MAX_CHANNELS 8
    #define BASSD_HIST_BINS 8192
    typedef struct {
        uint8_t *ring;
        uint32_t fade_frames;
        uint32_t channels;
        float gain;
        int32_t muted;
        float last[8];
        uint64_t callbacks;
        uint64_t frames_out;
        uint64_t dry_callbacks;
        uint64_t underrun_events;
        uint64_t pa_output_underflows;
        uint64_t last_callback_ns;
        uint64_t dur_max_ns;
        uint32_t dur_hist[8193];
        int32_t fail_once;
        uint64_t mark_frame;
        uint64_t mark_ns;
        int32_t fader_on;
        float fader_target;
        float fader;
        float fader_applied;
        uint64_t fader_mark_ns;
        int32_t fx_on;
        uint64_t fx_mark_ns;
        bassd_fx fx;
        bassd_fx_queue fxq;
    } bassd_player;
    uint64_t bassd_ring_load_write(const uint8_t *ring);
    uint64_t bassd_ring_load_read(const uint8_t *ring);
    void bassd_ring_store_write(uint8_t *ring, uint64_t pos);
    void bassd_ring_store_read(uint8_t *ring, uint64_t pos);
    void bassd_consume(bassd_player *p, float *out, unsigned long frames);
    int bassd_callback(const void *input, void *output, unsigned long frames,
                       const void *time_info, unsigned long status_flags,
                       void *userdata);
    """
)
ffibuilder.set_source(
    "bassd.engine._rtcore",
    '#include "rtcore.h"',
    # setuptools wants source paths relative to the project root (its cwd)
    sources=[os.path.relpath(HERE / "rtcore.c"), os.path.relpath(DSP / "fx.c")],
    include_dirs=[os.path.relpath(HERE), os.path.relpath(DSP)],
    # the flags of dsp/_dspcore_build.py, so fx.c gives the same samples in both cores
    extra_compile_args=["-O3", "-std=c11", "-D_POSIX_C_SOURCE=200809L"],
    libraries=["m"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
