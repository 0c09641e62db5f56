#ifndef BASSD_PEAKS_H
#define BASSD_PEAKS_H
#include <stdint.h>

/* Prominence of every index in peaks (n_peaks, each in [0, n)) of y (n), as
 * scipy.signal.peak_prominences, into out (n_peaks); work is 3n doubles. */
void bassd_prominences(const double *y, int64_t n, const int64_t *peaks, int64_t n_peaks,
                       double *out, double *work);

/* The strict local maxima of y (n) above floor with prominence >= min_prominence,
 * in order of index: index, parabolic vertex (fractional index) and its value,
 * prominence, into idx, pos, amp, prom (each with room for n / 2 + 1 entries);
 * work is 4n doubles, iwork n int64. Returns how many. */
int64_t bassd_pick_peaks(const double *y, int64_t n, double floor, double min_prominence,
                         int64_t *idx, double *pos, double *amp, double *prom, double *work,
                         int64_t *iwork);

/* Greedy matching over candidate (track, peak) pairs already in order of preference:
 * a pair is taken when neither its track nor its peak is taken yet. used_t, used_p:
 * zeroed flags (one per track, per peak), updated. The positions of the pairs taken
 * go into take (room for n); returns how many. */
int64_t bassd_greedy_pairs(const int64_t *ti, const int64_t *pi, int64_t n, uint8_t *used_t,
                           uint8_t *used_p, int64_t *take);

#endif
