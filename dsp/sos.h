#ifndef BASSD_SOS_H
#define BASSD_SOS_H
void bassd_sosfilt(const double *sos, int sections, double *zi, const double *x, double *y,
                   long frames, int channels);
#endif
