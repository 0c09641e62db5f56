/* bassd real-time core.  SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The callback contract (PortAudio calls bassd_callback on its real-time
 * thread, the JACK process thread under the JACK host API):
 *   - it never allocates, locks, logs, performs I/O or waits, and never
 *     touches the Python interpreter, so it does not need the GIL;
 *   - it always writes every sample of its output buffer;
 *   - the master post-FX (dsp/fx.c) runs here, after the ring and before the
 *     output fader, so a filter or limiter control applies at the next period
 *     instead of waiting for the ring's fill to play out;
 *   - when the ring runs dry it fades what it has to silence over
 *     fade_frames, outputs zeros (never stale or garbage samples), counts the
 *     underrun, and fades back in once the ring holds a full block again.
 */
#include "rtcore.h"

#include <string.h>
#include <time.h>

#define PA_OUTPUT_UNDERFLOW 0x00000004ul
#define PA_CONTINUE 0
#define PA_ABORT 2

static inline uint64_t *pos_ptr(const uint8_t *ring, int offset) {
    return (uint64_t *)(ring + offset);
}

static inline uint32_t capacity_of(const uint8_t *ring) {
    return *(const uint32_t *)(ring + 132);
}

uint64_t bassd_ring_load_write(const uint8_t *ring) {
    return __atomic_load_n(pos_ptr(ring, 0), __ATOMIC_ACQUIRE);
}

uint64_t bassd_ring_load_read(const uint8_t *ring) {
    return __atomic_load_n(pos_ptr(ring, 64), __ATOMIC_ACQUIRE);
}

void bassd_ring_store_write(uint8_t *ring, uint64_t pos) {
    __atomic_store_n(pos_ptr(ring, 0), pos, __ATOMIC_RELEASE);
}

void bassd_ring_store_read(uint8_t *ring, uint64_t pos) {
    __atomic_store_n(pos_ptr(ring, 64), pos, __ATOMIC_RELEASE);
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bassd_consume(bassd_player *p, float *out, unsigned long frames) {
    const uint32_t ch = p->channels;
    const uint32_t cap = capacity_of(p->ring);
    const uint64_t mask = (uint64_t)cap - 1u;
    const float *data = (const float *)(p->ring + BASSD_RING_HEADER_BYTES);
    const uint64_t r = bassd_ring_load_read(p->ring);
    const uint64_t w = bassd_ring_load_write(p->ring);
    const uint64_t avail = w - r;
    const float step = 1.0f / (float)(p->fade_frames ? p->fade_frames : 1u);
    unsigned long i;
    uint32_t c;

    if (avail >= frames && !(p->muted && avail < 2u * frames)) {
        /* Normal path; after an underrun, wait for two blocks before resuming
           so a trickling producer does not make the output flap. */
        float g = p->muted ? 0.0f : p->gain;
        p->muted = 0;
        for (i = 0; i < frames; i++) {
            const float *src = data + ((r + i) & mask) * ch;
            if (g < 1.0f) {
                g += step;
                if (g > 1.0f) g = 1.0f;
            }
            for (c = 0; c < ch; c++) out[i * ch + c] = src[c] * g;
        }
        for (c = 0; c < ch; c++) p->last[c] = data[((r + frames - 1) & mask) * ch + c];
        p->gain = g;
        bassd_ring_store_read(p->ring, r + frames);
        return;
    }

    /* Dry: fade what is there (then the last sample held) down to silence. */
    p->dry_callbacks++;
    if (!p->muted) p->underrun_events++;
    {
        const uint64_t use = p->muted ? 0 : avail; /* while muted, leave data to refill */
        float g = p->muted ? 0.0f : p->gain;
        /* finish the fade inside this block even when it is short */
        const float down = frames < p->fade_frames ? 1.0f / (float)frames : step;
        for (i = 0; i < frames; i++) {
            if (i < use) {
                const float *src = data + ((r + i) & mask) * ch;
                for (c = 0; c < ch; c++) p->last[c] = src[c];
            }
            if (g > 0.0f) {
                g -= down;
                if (g < 0.0f) g = 0.0f;
            }
            for (c = 0; c < ch; c++) out[i * ch + c] = p->last[c] * g;
        }
        p->gain = 0.0f;
        p->muted = 1;
        if (use) bassd_ring_store_read(p->ring, r + use);
    }
}

int bassd_callback(const void *input, void *output, unsigned long frames,
                   const void *time_info, unsigned long status_flags,
                   void *userdata) {
    bassd_player *p = (bassd_player *)userdata;
    const uint64_t t0 = now_ns();
    uint64_t dur, bin;
    (void)input;
    (void)time_info;

    __atomic_store_n(&p->last_callback_ns, t0, __ATOMIC_RELAXED);
    p->callbacks++;
    if (status_flags & PA_OUTPUT_UNDERFLOW) p->pa_output_underflows++;
    if (__atomic_exchange_n(&p->fail_once, 0, __ATOMIC_ACQ_REL)) {
        memset(output, 0, frames * p->channels * sizeof(float));
        return PA_ABORT;
    }
    {
        const uint64_t r = bassd_ring_load_read(p->ring);
        const uint64_t mark = __atomic_load_n(&p->mark_frame, __ATOMIC_ACQUIRE);
        bassd_consume(p, (float *)output, frames);
        if (mark && mark >= r && mark < bassd_ring_load_read(p->ring))
            __atomic_store_n(&p->mark_ns, t0, __ATOMIC_RELEASE);
        if (p->fx_on) { /* the master post-FX: a control sent now is heard this period */
            const uint64_t seq = p->fx.applied_seq;
            bassd_fx_process(&p->fx, &p->fxq, (float *)output, frames, r);
            if (p->fx.applied_seq != seq) __atomic_store_n(&p->fx_mark_ns, t0, __ATOMIC_RELEASE);
        }
    }
    if (__atomic_load_n(&p->fader_on, __ATOMIC_ACQUIRE)) {
        const float target = p->fader_target;
        const float start = p->fader;
        float *o = (float *)output;
        unsigned long i;
        uint32_t c;
        if (target != p->fader_applied) {
            p->fader_applied = target;
            __atomic_store_n(&p->fader_mark_ns, t0, __ATOMIC_RELEASE);
        }
        if (start != target || target != 1.0f) {
            const float step = (target - start) / (float)frames;
            for (i = 0; i < frames; i++) {
                const float g = start + step * (float)(i + 1);
                for (c = 0; c < p->channels; c++) o[i * p->channels + c] *= g;
            }
            p->fader = target;
        }
    }
    p->frames_out += frames;

    dur = now_ns() - t0;
    if (dur > p->dur_max_ns) p->dur_max_ns = dur;
    bin = dur / 1000u;
    if (bin > BASSD_HIST_BINS) bin = BASSD_HIST_BINS;
    p->dur_hist[bin]++;
    return PA_CONTINUE;
}
