/* Per-frame spectral peak picking (see dsp/spectral_peaks.py).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prominence as scipy.signal.peak_prominences (no wlen): a peak's height above
 * the higher of its two bases, a side's base being the lowest sample between
 * the peak and the nearest strictly higher sample on that side (or the edge).
 * Both sides come from one O(n) monotonic-stack scan each way, so a tilted
 * spectrum with many ripples costs no more than a flat one. Nothing here
 * allocates: the caller passes the work space.
 */
#include "peaks.h"

/* The minimum of y from i towards the start (step +1) or the end (step -1) up to,
 * not including, the nearest sample strictly higher than y[i] (or the edge): into
 * base[i] (first pass) or raising base[i] to it (second pass, max_into). sv, sm:
 * the stack of values (non-increasing from the bottom) and the minimum of each
 * one's segment, n doubles each. */
static void side_bases(const double *y, int64_t n, int step, int max_into, double *base,
                       double *sv, double *sm) {
    int64_t top = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = step > 0 ? k : n - 1 - k;
        double v = y[i];
        double m = v;
        while (top > 0 && sv[top - 1] <= v) {
            top--;
            if (sm[top] < m) m = sm[top];
        }
        sv[top] = v;
        sm[top] = m;
        top++;
        if (!max_into || m > base[i]) base[i] = m;
    }
}

/* work (3n): work[0:n] becomes the higher of the two side bases of every sample. */
static void bases(const double *y, int64_t n, double *work) {
    side_bases(y, n, 1, 0, work, work + n, work + 2 * n);
    side_bases(y, n, -1, 1, work, work + n, work + 2 * n);
}

void bassd_prominences(const double *y, int64_t n, const int64_t *peaks, int64_t n_peaks,
                       double *out, double *work) {
    if (n <= 0) return;
    bases(y, n, work);
    for (int64_t k = 0; k < n_peaks; k++) out[k] = y[peaks[k]] - work[peaks[k]];
}

/* The turning points of y: y[0], the last sample of every run (of equal values)
 * where the direction changes, y[n-1]; values into v, indices into at. Every base
 * is the minimum over a stretch that ends where y first rises above the peak, so
 * only turning points matter, and a stack over them (about 2 per local maximum)
 * mispredicts far fewer branches than one over every bin. Returns how many. */
static int64_t turning_points(const double *y, int64_t n, double *v, int64_t *at) {
    int64_t r = 1;
    int dir_prev = 0;
    v[0] = y[0];
    at[0] = 0;
    for (int64_t i = 1; i < n; i++) {
        int dir = (y[i] > y[i - 1]) - (y[i] < y[i - 1]);
        v[r] = y[i - 1];
        at[r] = i - 1;
        r += (dir != 0) & (dir_prev != 0) & (dir != dir_prev);
        dir_prev = dir != 0 ? dir : dir_prev;
    }
    v[r] = y[n - 1];
    at[r] = n - 1;
    return r + 1;
}

int64_t bassd_pick_peaks(const double *y, int64_t n, double floor, double min_prominence,
                         int64_t *idx, double *pos, double *amp, double *prom, double *work,
                         int64_t *iwork) {
    if (n < 3) return 0;
    double *v = work, *base = work + n;
    int64_t r = turning_points(y, n, v, iwork);
    side_bases(v, r, 1, 0, base, work + 2 * n, work + 3 * n);
    side_bases(v, r, -1, 1, base, work + 2 * n, work + 3 * n);
    int64_t kept = 0;
    for (int64_t k = 1; k + 1 < r; k++) {
        int64_t i = iwork[k];
        double b = y[i];
        if (!(b > y[i - 1] && b > y[i + 1] && b > floor)) continue; /* a strict maximum */
        double p = b - base[k];
        if (!(p >= min_prominence)) continue;
        /* the parabola through y[i-1], y[i], y[i+1]: its vertex (as parabolic()) */
        double a = y[i - 1], c = y[i + 1];
        double den = a - 2.0 * b + c;
        double off = den < 0.0 ? 0.5 * (a - c) / den : 0.0;
        idx[kept] = i;
        pos[kept] = (double)i + off;
        amp[kept] = b - 0.25 * (a - c) * off;
        prom[kept] = p;
        kept++;
    }
    return kept;
}

int64_t bassd_greedy_pairs(const int64_t *ti, const int64_t *pi, int64_t n, uint8_t *used_t,
                           uint8_t *used_p, int64_t *take) {
    int64_t m = 0;
    for (int64_t c = 0; c < n; c++) {
        if (used_t[ti[c]] | used_p[pi[c]]) continue;
        used_t[ti[c]] = 1;
        used_p[pi[c]] = 1;
        take[m++] = c;
    }
    return m;
}
