/* bassd real-time core: the lock-free ring layout and the PortAudio callback.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The ring lives in a flat byte region (a multiprocessing.shared_memory block,
 * so a producer in another process can fill it).  Layout:
 *
 *   offset   0: uint64 write_pos   (frames ever written; only the producer stores it)
 *   offset  64: uint64 read_pos    (frames ever read;    only the consumer stores it)
 *   offset 128: uint32 magic, uint32 capacity (frames, power of two), uint32 channels
 *   offset 256: float32 data[capacity][channels], interleaved
 *
 * Positions only grow; index = pos & (capacity - 1).  The producer writes the
 * samples, then publishes write_pos with a release store; the consumer loads
 * it with an acquire load, so it never sees a position before its samples.
 * The two positions sit on separate cache lines to avoid false sharing.
 */
#ifndef BASSD_RTCORE_H
#define BASSD_RTCORE_H

#include <stdint.h>

#include "fx.h"

#define BASSD_RING_HEADER_BYTES 256
#define BASSD_RING_MAGIC 0x62617373u /* "bass" */
#define BASSD_MAX_CHANNELS 8
#define BASSD_HIST_BINS 8192 /* callback duration histogram, 1 us bins */

typedef struct {
    /* wiring (set before the stream starts, never changed while it runs) */
    uint8_t *ring;
    uint32_t fade_frames;      /* length of the fade to silence / fade-in */
    uint32_t channels;

    /* written by the callback only */
    float gain;                /* current fade gain, 0..1 */
    int32_t muted;             /* 1 after the ring ran dry until it refills */
    float last[BASSD_MAX_CHANNELS];
    uint64_t callbacks;
    uint64_t frames_out;       /* device sample clock: frames handed to PortAudio */
    uint64_t dry_callbacks;    /* callbacks that could not be filled from the ring */
    uint64_t underrun_events;  /* transitions from playing to dry */
    uint64_t pa_output_underflows; /* paOutputUnderflow status flags from PortAudio */
    uint64_t last_callback_ns; /* CLOCK_MONOTONIC at the last callback's start */
    uint64_t dur_max_ns;
    uint32_t dur_hist[BASSD_HIST_BINS + 1]; /* last bin: overflow */

    /* written by the control side, read by the callback */
    int32_t fail_once;         /* fault injection: abort the next callback */
    uint64_t mark_frame;       /* latency probe: a ring position (engine frame) to watch */
    uint64_t mark_ns;          /* written by the callback: when that frame was handed out */
    /* output fader after the limiter (≤ 1, so the peak guarantee holds): the control
       side sets fader_target (and fader_on); the callback ramps fader to it over
       one block and notes when it first applied a new target in fader_mark_ns */
    int32_t fader_on;
    float fader_target;
    float fader;
    float fader_applied;
    uint64_t fader_mark_ns;
    /* the master post-FX (dsp/fx.h), run by the callback after the ring and before the
       fader when fx_on: the control side initialises fx before the stream starts and
       then only pushes into fxq; the callback notes when it applied an update
       (fx.applied_seq) in fx_mark_ns */
    int32_t fx_on;
    uint64_t fx_mark_ns;
    bassd_fx fx;
    bassd_fx_queue fxq;
} bassd_player;

uint64_t bassd_ring_load_write(const uint8_t *ring);
uint64_t bassd_ring_load_read(const uint8_t *ring);
void bassd_ring_store_write(uint8_t *ring, uint64_t pos);
void bassd_ring_store_read(uint8_t *ring, uint64_t pos);

/* Fill out[frames * channels] from the ring; the callback's whole body. */
void bassd_consume(bassd_player *p, float *out, unsigned long frames);

/* PortAudio stream callback (signature of PaStreamCallback). */
int bassd_callback(const void *input, void *output, unsigned long frames,
                   const void *time_info, unsigned long status_flags,
                   void *userdata);

#endif
