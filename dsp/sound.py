"""A sound: an analysis as the oscillator bank plays it (the set, and its map if any)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bassd.dsp.oscillator_set import OscillatorSet

if TYPE_CHECKING:
    from bassd.dsp.som import SomMap


@dataclass(frozen=True, eq=False)
class Sound:
    """The oscillator set of an analysis and, when one was trained, its map, whose node
    states are amplitudes of the set's partials."""

    oscset: OscillatorSet
    som: SomMap | None = None

    def __post_init__(self) -> None:
        if self.som is not None and self.som.states.shape[-1] != len(self.oscset):
            raise ValueError(
                f"the map's node states have {self.som.states.shape[-1]} amplitudes, "
                f"the set {len(self.oscset)} partials"
            )

    @property
    def name(self) -> str:
        return self.oscset.name

    def amplitudes(self, xy: tuple[float, float] | None = None) -> npt.NDArray[np.float64]:
        """(P,) linear amplitudes of the set's partials: the whole recording's, or the map's
        interpolated state at ``xy`` (0..1 each) when there is a map and a position."""
        if xy is None or self.som is None:
            return self.oscset.amps
        return np.asarray(self.som.state_at(xy[0], xy[1]), dtype=np.float64)
