#ifndef BASSD_BANK_H
#define BASSD_BANK_H
#include <stdint.h>

/* State of one Kuramoto oscillator bank, every array allocated by the caller
 * (numpy, at bank construction) and only read or updated in place here. */
typedef struct {
    int n;             /* partials */
    int L;             /* frames per control step */
    int chords;        /* rows of members */
    int base_gliding;  /* base moves towards base_target (1) or stays (0) */
    int pans_gliding;  /* pans move towards pans_target */
    int64_t step_frame; /* first frame of the next control step */
    double sample_rate;
    double K;          /* coupling, rad/s */
    double beat;       /* seconds per beat */
    double period;     /* seconds per chord */
    double chord_glide; /* seconds of the glide into a chord */
    double pulse_depth;
    double glide;      /* per-step factor of the live-parameter glides */
    double *phi;       /* (n) detune phases */
    double *theta;     /* (n) full phases, [0, 2pi) */
    const double *detune;   /* (n) rad/s */
    const double *kweight;  /* (n) each partial's share of the coupling (mean 1) */
    const double *advance;  /* (n) nominal phase advance per step, rad */
    const double *members;  /* (chords, n) chord weight of every partial */
    double *base;           /* (n) spectral-tilt amplitudes */
    const double *base_target;
    double *pans;           /* (2, n) pan gains */
    const double *pans_target;
    const double *lfo_hz;   /* (n) */
    const double *lfo_cycles; /* (n) LFO phase offsets, cycles */
    double *amp_prev;       /* (n) amplitude at the start of the next step */
    double *scratch;        /* (2, n) work space: sin and cos of the detune phases */
} bassd_bank;

/* Advance the bank by `steps` control steps and write the synthesis
 * coefficients: coef is (steps, 2 channels, 4, n) float32, rows [C0, S0, C1, S1]. */
void bassd_bank_coefs(bassd_bank *b, int steps, float *coef);

/* Amplitude of every partial at time t (seconds) into out (n). */
void bassd_bank_amplitudes(const bassd_bank *b, double t, double *out);

#endif
