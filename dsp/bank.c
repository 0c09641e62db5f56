/* Control-rate kernel of the Kuramoto oscillator bank (see dsp/oscillators.py).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Per control step: the mean-field Kuramoto update of the detune phases, the
 * amplitude of every partial at the end of the step (chord, LFO, pulse), and
 * the four synthesis coefficients per partial and channel. The per-sample work
 * is one matrix product with the bank's fixed tables, done by the caller.
 * Nothing here allocates: every buffer belongs to the bank.
 */
#include <math.h>

#include "bank.h"

#define TWO_PI 6.283185307179586
#define INV_TWO_PI 0.15915494309189535
#define ROUND_MAGIC 6755399441055744.0 /* 1.5 * 2^52: (y + M) - M rounds y to an integer */

/* sin and cos of x for |x| < 2^50, |error| < 3e-8: x reduced to [-pi, pi] by a
 * whole number of turns, then Taylor series to degree 17 / 18. Branch-free, so
 * loops over partials vectorise. */
static inline void sincos_turns(double x, double *s, double *c) {
    double k = (x * INV_TWO_PI + ROUND_MAGIC) - ROUND_MAGIC; /* not folded without -ffast-math */
    double r = x - k * TWO_PI;
    double r2 = r * r;
    double ps = 1.0 / 355687428096000.0;          /* 1/17! */
    ps = ps * r2 - 1.0 / 1307674368000.0;         /* 1/15! */
    ps = ps * r2 + 1.0 / 6227020800.0;            /* 1/13! */
    ps = ps * r2 - 1.0 / 39916800.0;              /* 1/11! */
    ps = ps * r2 + 1.0 / 362880.0;                /* 1/9! */
    ps = ps * r2 - 1.0 / 5040.0;
    ps = ps * r2 + 1.0 / 120.0;
    ps = ps * r2 - 1.0 / 6.0;
    *s = r + r * r2 * ps;
    double pc = 1.0 / 6402373705728000.0;         /* 1/18! */
    pc = pc * r2 - 1.0 / 20922789888000.0;        /* 1/16! */
    pc = pc * r2 + 1.0 / 87178291200.0;           /* 1/14! */
    pc = pc * r2 - 1.0 / 479001600.0;             /* 1/12! */
    pc = pc * r2 + 1.0 / 3628800.0;               /* 1/10! */
    pc = pc * r2 - 1.0 / 40320.0;
    pc = pc * r2 + 1.0 / 720.0;
    pc = pc * r2 - 1.0 / 24.0;
    pc = pc * r2 + 0.5;
    *c = 1.0 - r2 * pc;
}

/* x reduced to [-pi, pi] by a whole number of turns */
static inline double wrap(double x) {
    return x - TWO_PI * ((x * INV_TWO_PI + ROUND_MAGIC) - ROUND_MAGIC);
}

/* What every partial's amplitude shares at time t: the chords, the glide, the pulse. */
typedef struct {
    const double *cur, *prev; /* chord weights now and before */
    double x;                 /* glide from prev to cur, 0..1 */
    double pulse;
} chord_time;

static chord_time chord_at(const bassd_bank *b, double t) {
    const double kc = floor(t / b->period);
    const int64_t k = (int64_t)kc;
    const int64_t m = b->chords;
    chord_time ct;
    ct.cur = b->members + ((k % m + m) % m) * b->n;
    ct.prev = b->members + (((k - 1) % m + m) % m) * b->n;
    double x = (t - kc * b->period) / b->chord_glide;
    x = x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
    ct.x = t < b->period ? 1.0 : x * x * (3.0 - 2.0 * x); /* smoothstep; none into the first */
    ct.pulse = 1.0 + b->pulse_depth * cos(TWO_PI * t / b->beat);
    return ct;
}

/* Amplitude of partial i at time t (base · chord weight · slow LFO · pulse). */
static inline double amplitude(const bassd_bank *b, const chord_time *ct, int i, double t) {
    double s, c, cyc = b->lfo_hz[i] * t + b->lfo_cycles[i];
    cyc -= (cyc + ROUND_MAGIC) - ROUND_MAGIC; /* within one turn of zero */
    sincos_turns(TWO_PI * cyc, &s, &c);
    const double chord = ct->prev[i] + (ct->cur[i] - ct->prev[i]) * ct->x;
    return b->base[i] * chord * (0.65 + 0.35 * s) * ct->pulse;
}

void bassd_bank_amplitudes(const bassd_bank *b, double t, double *out) {
    const chord_time ct = chord_at(b, t);
    for (int i = 0; i < b->n; i++) out[i] = amplitude(b, &ct, i, t);
}

static void step(bassd_bank *b, float *coef) {
    const int n = b->n;
    const double dt = (double)b->L / b->sample_rate;
    const double inv_n = n > 0 ? 1.0 / n : 0.0;
    double *restrict sphi = b->scratch, *restrict cphi = b->scratch + n;
    double sum_s = 0.0, sum_c = 0.0;
    for (int i = 0; i < n; i++) sincos_turns(b->phi[i], &sphi[i], &cphi[i]);
    for (int i = 0; i < n; i++) {
        sum_s += sphi[i];
        sum_c += cphi[i];
    }
    const double k_s = b->K * inv_n * sum_s, k_c = b->K * inv_n * sum_c;

    /* amplitudes at the end of this step: pure functions of time */
    const double t = (double)(b->step_frame + b->L) / b->sample_rate;
    chord_time ctime = chord_at(b, t);
    const double g = b->glide;
    double *restrict base = b->base, *restrict pans = b->pans;
    if (b->base_gliding)
        for (int i = 0; i < n; i++) base[i] = b->base_target[i] + (base[i] - b->base_target[i]) * g;
    if (b->pans_gliding)
        for (int i = 0; i < 2 * n; i++) pans[i] = b->pans_target[i] + (pans[i] - b->pans_target[i]) * g;

    double *restrict phi = b->phi, *restrict theta = b->theta, *restrict amp_prev = b->amp_prev;
    const double *restrict detune = b->detune, *restrict advance = b->advance;
    const double *restrict kweight = b->kweight;
    const double *restrict lfo_hz = b->lfo_hz, *restrict lfo_cycles = b->lfo_cycles;
    const double *restrict cur = ctime.cur, *restrict prev = ctime.prev;
    const double *restrict pl = pans, *restrict pr = pans + n;
    const double xg = ctime.x, pulse = ctime.pulse;
    float *restrict c0l = coef, *restrict s0l = coef + n;
    float *restrict c1l = coef + 2 * n, *restrict s1l = coef + 3 * n;
    float *restrict c0r = coef + 4 * n, *restrict s0r = coef + 5 * n;
    float *restrict c1r = coef + 6 * n, *restrict s1r = coef + 7 * n;

    /* every array is distinct (allocated per bank): no alias checks needed to vectorise */
#pragma GCC ivdep
    for (int i = 0; i < n; i++) {
        double st, ct, sl, cl;
        const double sp = sphi[i], cp = cphi[i];
        /* coupled deviation of the detune phase, rad/s, and its phase over the step */
        const double d = kweight[i] * (cp * k_s - sp * k_c) + detune[i];
        const double dph = d * dt;
        sincos_turns(theta[i], &st, &ct);
        phi[i] = wrap(phi[i] + dph);
        theta[i] = wrap(theta[i] + advance[i] + dph);

        /* amplitude at the end of the step: base · chord weight · slow LFO · pulse */
        double cyc = lfo_hz[i] * t + lfo_cycles[i];
        cyc -= (cyc + ROUND_MAGIC) - ROUND_MAGIC; /* within one turn of zero */
        sincos_turns(TWO_PI * cyc, &sl, &cl);
        const double chord = prev[i] + (cur[i] - prev[i]) * xg;
        const double amp = base[i] * chord * (0.65 + 0.35 * sl) * pulse;
        const double a0 = amp_prev[i], da = amp - a0;
        amp_prev[i] = amp;

        const double al = a0 * pl[i], dal = da * pl[i], ar = a0 * pr[i], dar = da * pr[i];
        c0l[i] = (float)(al * st);
        s0l[i] = (float)(al * ct);
        c1l[i] = (float)(dal * st + al * dph * ct);
        s1l[i] = (float)(dal * ct - al * dph * st);
        c0r[i] = (float)(ar * st);
        s0r[i] = (float)(ar * ct);
        c1r[i] = (float)(dar * st + ar * dph * ct);
        s1r[i] = (float)(dar * ct - ar * dph * st);
    }
    b->step_frame += b->L;
}

void bassd_bank_coefs(bassd_bank *b, int steps, float *coef) {
    for (int j = 0; j < steps; j++) step(b, coef + (long)j * 8 * b->n);
}
