/* The master post-FX chain in C: gain -> Butterworth high-pass -> low-pass -> soft limiter.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One implementation for both places it runs: the device process's audio callback
 * (engine/rtcore.c, live) and dsp/postfx.py (offline renders, tests, the engine's
 * capture of each segment). Same code, same samples.
 *
 * Every change is an update carrying all five settings. The control side pushes it
 * into a single-producer/single-consumer queue; the processing side applies due
 * updates at control steps (engine frames that are multiples of BASSD_FX_STEP), so
 * the output does not depend on how the stream is cut into blocks. An update with
 * frame 0 applies at the next control step; one with frame F at the first step >= F.
 * Gain, drive and peak then ramp linearly over BASSD_FX_RAMP frames; the cut-offs
 * glide in log frequency (time constant 20 ms) with the coefficients redesigned at
 * every step while they move. bassd_fx_process never allocates, locks or waits.
 */
#ifndef BASSD_FX_H
#define BASSD_FX_H

#include <stdint.h>

#define BASSD_FX_SECTIONS 2 /* 4th-order Butterworth: two biquads per filter */
#define BASSD_FX_CHANNELS 2
#define BASSD_FX_QUEUE 32   /* power of two */
#define BASSD_FX_STEP 32    /* frames between control steps */
#define BASSD_FX_RAMP 256   /* frames over which gain, drive and peak ramp */

typedef struct {
    uint64_t frame;         /* apply at the first control step >= frame (0: the next one) */
    uint64_t seq;           /* the update's number, for the latency probe */
    double gain;            /* linear, > 0 */
    double hpf_hz;
    double lpf_hz;
    double drive;
    double peak;
} bassd_fx_settings;

typedef struct {
    uint64_t head;          /* updates ever pushed: stored by the control side only */
    uint8_t pad_head[56];
    uint64_t tail;          /* updates ever taken: stored by the processing side only */
    uint8_t pad_tail[56];
    bassd_fx_settings slot[BASSD_FX_QUEUE];
} bassd_fx_queue;

typedef struct {
    double sample_rate;
    uint32_t channels;
    uint32_t ramp_left;
    bassd_fx_settings target;
    double gain, drive, peak;        /* current values (ramping) */
    double d_gain, d_drive, d_peak;  /* per-frame steps while ramping */
    double hpf_hz, lpf_hz;           /* current cut-offs (gliding) */
    double glide_k;                  /* log-frequency glide factor per control step */
    double sos_hp[6 * BASSD_FX_SECTIONS];
    double sos_lp[6 * BASSD_FX_SECTIONS];
    double zi_hp[2 * BASSD_FX_SECTIONS * BASSD_FX_CHANNELS];
    double zi_lp[2 * BASSD_FX_SECTIONS * BASSD_FX_CHANNELS];
    uint64_t applied_seq;            /* the last update applied */
    uint64_t applied_frame;          /* the control step it was applied at */
} bassd_fx;

/* Set the chain to `s` at once (no ramp), state cleared. channels <= BASSD_FX_CHANNELS. */
void bassd_fx_init(bassd_fx *fx, double sample_rate, uint32_t channels,
                   const bassd_fx_settings *s);
/* Butterworth 4th-order sections (b0 b1 b2 a0 a1 a2 per section) for a cut-off. */
void bassd_fx_design(double sample_rate, double cutoff_hz, int highpass, double *sos);
/* Control side: queue an update; 0 when the queue is full (nothing written). */
int bassd_fx_push(bassd_fx_queue *q, const bassd_fx_settings *s);
/* Processing side: run `frames` interleaved frames in place; frame0 is the engine
   frame of the first one. */
void bassd_fx_process(bassd_fx *fx, bassd_fx_queue *q, float *io, unsigned long frames,
                      uint64_t frame0);

#endif
