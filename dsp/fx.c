/* The master post-FX chain; the contract is in fx.h.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "fx.h"

#include <complex.h>
#include <math.h>

#define PI 3.14159265358979323846
#define CLIP_IN 1e3   /* tanh is flat beyond; keeps drive * x finite */
#define FLUSH 1e-9    /* filter state below this (-180 dB) is zeroed: a tail ends in exact silence */
#define GLIDE_S 0.02

void bassd_fx_design(double sample_rate, double cutoff_hz, int highpass, double *sos) {
    /* Analogue Butterworth poles, pre-warped at the cut-off, bilinear transform. */
    const int order = 2 * BASSD_FX_SECTIONS;
    const double fs2 = 2.0 * sample_rate;
    const double warped = fs2 * tan(PI * cutoff_hz / sample_rate);
    int k;
    for (k = 0; k < BASSD_FX_SECTIONS; k++) {
        const double complex proto = cexp(I * PI * (2.0 * k + order + 1) / (2.0 * order));
        const double complex s = highpass ? warped / proto : warped * proto;
        const double complex z = (fs2 + s) / (fs2 - s);
        const double zero = highpass ? 1.0 : -1.0; /* double zero at DC (HP) or Nyquist (LP) */
        const double ref = highpass ? -1.0 : 1.0;  /* unity gain at Nyquist (HP) or DC (LP) */
        double b[3] = {1.0, -2.0 * zero, 1.0};
        const double a[3] = {1.0, -2.0 * creal(z), creal(z) * creal(z) + cimag(z) * cimag(z)};
        const double num = a[0] + a[1] * ref + a[2] * ref * ref;
        const double den = b[0] + b[1] * ref + b[2] * ref * ref;
        int j;
        for (j = 0; j < 3; j++) b[j] *= num / den;
        for (j = 0; j < 3; j++) {
            sos[6 * k + j] = b[j];
            sos[6 * k + 3 + j] = a[j];
        }
    }
}

void bassd_fx_init(bassd_fx *fx, double sample_rate, uint32_t channels,
                   const bassd_fx_settings *s) {
    unsigned i;
    fx->sample_rate = sample_rate;
    fx->channels = channels > BASSD_FX_CHANNELS ? BASSD_FX_CHANNELS : channels;
    fx->ramp_left = 0;
    fx->target = *s;
    fx->gain = s->gain;
    fx->drive = s->drive;
    fx->peak = s->peak;
    fx->d_gain = fx->d_drive = fx->d_peak = 0.0;
    fx->hpf_hz = s->hpf_hz;
    fx->lpf_hz = s->lpf_hz;
    fx->glide_k = exp(-(double)BASSD_FX_STEP / (sample_rate * GLIDE_S));
    bassd_fx_design(sample_rate, s->hpf_hz, 1, fx->sos_hp);
    bassd_fx_design(sample_rate, s->lpf_hz, 0, fx->sos_lp);
    for (i = 0; i < 2 * BASSD_FX_SECTIONS * BASSD_FX_CHANNELS; i++) fx->zi_hp[i] = fx->zi_lp[i] = 0.0;
    fx->applied_seq = s->seq;
    fx->applied_frame = 0;
}

int bassd_fx_push(bassd_fx_queue *q, const bassd_fx_settings *s) {
    const uint64_t head = q->head; /* only this side stores it */
    const uint64_t tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
    if (head - tail >= BASSD_FX_QUEUE) return 0;
    q->slot[head & (BASSD_FX_QUEUE - 1)] = *s;
    __atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
    return 1;
}

static void apply(bassd_fx *fx, const bassd_fx_settings *s, uint64_t frame) {
    fx->target = *s;
    fx->d_gain = (s->gain - fx->gain) / BASSD_FX_RAMP;
    fx->d_drive = (s->drive - fx->drive) / BASSD_FX_RAMP;
    fx->d_peak = (s->peak - fx->peak) / BASSD_FX_RAMP;
    fx->ramp_left = BASSD_FX_RAMP;
    fx->applied_seq = s->seq;
    fx->applied_frame = frame;
}

static double glide(double cur, double target, double k) {
    double nxt;
    if (cur == target) return cur;
    nxt = exp(log(target) + (log(cur) - log(target)) * k);
    return fabs(nxt / target - 1.0) < 1e-3 ? target : nxt;
}

/* At a control step: take the due updates, move the cut-offs one step. */
static void control_step(bassd_fx *fx, bassd_fx_queue *q, uint64_t frame) {
    if (q) {
        uint64_t tail = q->tail;
        const uint64_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
        while (tail < head) {
            const bassd_fx_settings *s = &q->slot[tail & (BASSD_FX_QUEUE - 1)];
            if (s->frame > frame) break; /* in time order: the rest are later */
            apply(fx, s, frame);
            tail++;
        }
        __atomic_store_n(&q->tail, tail, __ATOMIC_RELEASE);
    }
    if (fx->hpf_hz != fx->target.hpf_hz) {
        fx->hpf_hz = glide(fx->hpf_hz, fx->target.hpf_hz, fx->glide_k);
        bassd_fx_design(fx->sample_rate, fx->hpf_hz, 1, fx->sos_hp);
    }
    if (fx->lpf_hz != fx->target.lpf_hz) {
        fx->lpf_hz = glide(fx->lpf_hz, fx->target.lpf_hz, fx->glide_k);
        bassd_fx_design(fx->sample_rate, fx->lpf_hz, 0, fx->sos_lp);
    }
}

static inline double biquads(const double *sos, double *zi, uint32_t ch, uint32_t c, double v) {
    int s;
    for (s = 0; s < BASSD_FX_SECTIONS; s++) {
        const double *k = sos + 6 * s;
        double *z0 = zi + (2 * s) * ch + c;
        double *z1 = zi + (2 * s + 1) * ch + c;
        const double out = k[0] * v + *z0;
        *z0 = k[1] * v - k[4] * out + *z1;
        *z1 = k[2] * v - k[5] * out;
        v = out;
    }
    return v;
}

static void clean_state(double *zi, unsigned n, int poisoned) {
    unsigned i;
    for (i = 0; i < n; i++)
        if (poisoned || !isfinite(zi[i]) || fabs(zi[i]) < FLUSH) zi[i] = 0.0;
}

static void run(bassd_fx *fx, float *io, unsigned long n) {
    const uint32_t ch = fx->channels;
    unsigned long i;
    uint32_t c;
    int poisoned = 0;
    for (i = 0; i < n; i++) {
        float ceiling;
        if (fx->ramp_left) {
            if (--fx->ramp_left == 0) {
                fx->gain = fx->target.gain;
                fx->drive = fx->target.drive;
                fx->peak = fx->target.peak;
            } else {
                fx->gain += fx->d_gain;
                fx->drive += fx->d_drive;
                fx->peak += fx->d_peak;
            }
        }
        ceiling = (float)fx->peak;
        for (c = 0; c < ch; c++) {
            double v = io[i * ch + c];
            if (!isfinite(v)) v = 0.0; /* a bad input sample is silence */
            v *= fx->gain;
            v = biquads(fx->sos_hp, fx->zi_hp, ch, c, v);
            v = biquads(fx->sos_lp, fx->zi_lp, ch, c, v);
            if (!isfinite(v)) {
                v = 0.0; /* overflow inside the filters: silence, state reset below */
                poisoned = 1;
            }
            if (v > CLIP_IN) v = CLIP_IN;
            if (v < -CLIP_IN) v = -CLIP_IN;
            {
                float y = (float)(fx->peak * tanh(fx->drive * v));
                /* float rounding of peak * tanh can land one ulp above the peak */
                if (y > ceiling) y = ceiling;
                if (y < -ceiling) y = -ceiling;
                io[i * ch + c] = y;
            }
        }
    }
    clean_state(fx->zi_hp, 2 * BASSD_FX_SECTIONS * ch, poisoned);
    clean_state(fx->zi_lp, 2 * BASSD_FX_SECTIONS * ch, poisoned);
}

void bassd_fx_process(bassd_fx *fx, bassd_fx_queue *q, float *io, unsigned long frames,
                      uint64_t frame0) {
    uint64_t f = frame0;
    unsigned long i = 0;
    while (i < frames) {
        unsigned long n = BASSD_FX_STEP - (unsigned long)(f % BASSD_FX_STEP);
        if (f % BASSD_FX_STEP == 0) control_step(fx, q, f);
        if (n > frames - i) n = frames - i;
        run(fx, io + i * fx->channels, n);
        i += n;
        f += n;
    }
}
