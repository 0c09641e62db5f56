"""Key profiles for Krumhansl-Schmuckler key finding: major and minor 12-vectors.

Each profile gives, for the pitch classes 0..11 *relative to the tonic* (index 0 is the
tonic, 7 the dominant, 3 the minor third ...), how strongly that degree belongs to the key.
Only the shape matters: key finding correlates (Pearson) a pitch-class histogram with the
profile rotated to each of the 12 tonics, so any scale or offset of a profile is the same
profile.

Every vector below was checked number by number against music21 10.5
(``music21/analysis/discrete.py``, the ``getWeights`` of each ``KeyWeightKeyAnalysis``
subclass), which takes them from Craig Sapp's Humdrum ``keycor`` manual
(https://extras.humdrum.org/man/keycor/). No I/O here.
"""

from __future__ import annotations

from typing import Final

KeyProfile = tuple[tuple[float, ...], tuple[float, ...]]
"""(major, minor), each 12 weights from the tonic upwards in semitones."""

# Krumhansl & Kessler (1982), "Tracing the dynamic changes in perceived tonal organization
# in a spatial representation of musical keys", Psychological Review 89(4): probe-tone
# ratings by listeners; also Krumhansl (1990), Cognitive Foundations of Musical Pitch,
# table 2.1. The profiles of Krumhansl-Schmuckler's original algorithm. keycor: "strong
# tendency to identify the dominant key as the tonic". music21: KrumhanslSchmuckler
# (= KrumhanslKessler since music21 6.3).
KRUMHANSL_KESSLER: Final[KeyProfile] = (
    (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
    (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
)

# Aarden (2003), "Dynamic melodic expectancy", PhD dissertation, Ohio State University:
# pitch-class frequencies (duration-weighted, in per cent) in the Essen folksong collection,
# major and minor melodies separately. keycor: "weak tendency to identify the subdominant
# key as the tonic". music21: AardenEssen -- the profile music21's ``analyze('key')`` uses.
AARDEN_ESSEN: Final[KeyProfile] = (
    (
        17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587,
        0.291248, 22.062, 0.145624, 8.15494, 0.232998, 4.95122,
    ),
    (
        18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362,
        0.702494, 18.6161, 4.56621, 1.93186, 7.37619, 1.75623,
    ),
)  # fmt: skip

# Temperley (2007), Music and Probability (MIT Press), ch. 4: the proportion of segments
# containing each scale degree in the excerpts of the Kostka & Payne harmony textbook
# (Tonal Harmony) workbook. keycor: "strong tendency to identify the relative major as the
# tonic in minor keys; well-balanced for major keys". music21: TemperleyKostkaPayne.
TEMPERLEY_KOSTKA_PAYNE: Final[KeyProfile] = (
    (0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400),
    (0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330),
)

# Bellman (2005), "About the determination of key of a musical excerpt", CMMR 2005 (LNCS
# 3902), from the chord statistics of Budge (1943), "A study of chord frequencies based on
# the music of representative composers of the eighteenth and nineteenth centuries".
# keycor: "no particular tendencies for confusions with neighboring keys". music21:
# BellmanBudge.
BELLMAN_BUDGE: Final[KeyProfile] = (
    (16.80, 0.86, 12.95, 1.41, 13.49, 11.93, 1.25, 20.28, 1.80, 8.04, 0.62, 10.57),
    (18.16, 0.69, 12.99, 13.34, 1.07, 11.15, 1.38, 21.07, 7.49, 1.53, 0.92, 10.21),
)

# Sapp (2011), "Computational methods for the analysis of musical structure", PhD
# dissertation, Stanford (and the keycor manual): tonic and dominant 2, the other scale
# notes 1; in minor the lowered and the raised 7th half each. keycor: "performs most
# consistently with large regions of music, becomes noisier with smaller regions".
# music21: SimpleWeights.
SIMPLE: Final[KeyProfile] = (
    (2.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0),
    (2.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 2.0, 1.0, 0.0, 0.5, 0.5),
)

PROFILES: Final[dict[str, KeyProfile]] = {
    "krumhansl_kessler": KRUMHANSL_KESSLER,
    "aarden_essen": AARDEN_ESSEN,
    "temperley_kostka_payne": TEMPERLEY_KOSTKA_PAYNE,
    "bellman_budge": BELLMAN_BUDGE,
    "simple": SIMPLE,
}
"""Every profile by name (the names ``find_key(..., profile=)`` and ``--profile`` take)."""
