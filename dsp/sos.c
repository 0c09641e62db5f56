/* Cascaded biquads (second-order sections), transposed direct form II.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * x, y: frames x channels, interleaved float64 (y may alias x).
 * sos:  sections x 6 (b0 b1 b2 a0 a1 a2, a0 == 1).
 * zi:   sections x 2 x channels state, carried across calls.
 */
#include "sos.h"

void bassd_sosfilt(const double *sos, int sections, double *zi, const double *x, double *y,
                   long frames, int channels) {
    long n;
    int s, c;
    for (n = 0; n < frames; n++) {
        for (c = 0; c < channels; c++) {
            double v = x[n * channels + c];
            for (s = 0; s < sections; s++) {
                const double *k = sos + 6 * s;
                double *z0 = zi + (2 * s) * channels + c;
                double *z1 = zi + (2 * s + 1) * channels + c;
                double out = k[0] * v + *z0;
                *z0 = k[1] * v - k[4] * out + *z1;
                *z1 = k[2] * v - k[5] * out;
                v = out;
            }
            y[n * channels + c] = v;
        }
    }
}
