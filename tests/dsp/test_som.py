"""The self-organising map: training quality, cluster states, persistence, interpolation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from minisom import MiniSom

from bassd.dsp.som import SomMap, train_map

PAYLOADS = np.array([[1.0, 0.0, 0.0, 0.5], [0.0, 1.0, 0.0, 0.2], [0.0, 0.0, 1.0, 0.9]])


def _clusters(n_per: int = 60, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three well-separated Gaussian clusters in 10-D on very different column scales."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 10)) * 6.0
    labels = np.repeat(np.arange(3), n_per)
    scale = np.geomspace(0.01, 100.0, 10)  # standardisation must even these out
    x = (centres[labels] + rng.normal(size=(labels.size, 10)) * 0.3) * scale
    return x, PAYLOADS[labels], labels


@pytest.fixture(scope="module")
def trained() -> tuple[SomMap, np.ndarray, np.ndarray]:
    x, pay, lab = _clusters()
    return train_map(x, pay, lab, seed=3), x, lab


def test_qe_and_te_fall_with_training(trained: tuple[SomMap, np.ndarray, np.ndarray]) -> None:
    """History runs from iteration 0 to the end; QE and TE end well below the untrained map's."""
    som, x, _ = trained
    its, qe, te = (np.array(c) for c in zip(*som.history, strict=True))
    assert len(som.history) == 5 and its[0] == 0 and np.all(np.diff(its) > 0)
    assert qe[-1] < qe[0] / 3 and te[-1] <= te[0]
    assert te[0] > 0.3 and te[-1] < 0.05
    # the last checkpoint is the returned map, measured by our own numpy
    assert som.quantization_error(x) == pytest.approx(qe[-1], rel=1e-9)
    assert som.topographic_error(x) == pytest.approx(te[-1])


def test_errors_match_minisom(trained: tuple[SomMap, np.ndarray, np.ndarray]) -> None:
    """SomMap's QE and TE equal MiniSom's on the same weights and standardised data."""
    som, x, _ = trained
    ref = MiniSom(som.rows, som.cols, som.weights.shape[2])
    ref._weights = som.weights.copy()
    z = (x - som.mean) / som.std
    assert som.quantization_error(x) == pytest.approx(ref.quantization_error(z), rel=1e-9)
    assert som.topographic_error(x) == pytest.approx(ref.topographic_error(z))


def test_clusters_on_distinct_nodes_with_their_payloads(
    trained: tuple[SomMap, np.ndarray, np.ndarray],
) -> None:
    """Each cluster's rows land on nodes no other cluster uses, whose states are that
    cluster's payload and whose label is that cluster; hits count every row."""
    som, x, lab = trained
    bmu = som.bmu(x)  # (n, 2)
    nodes = [{tuple(b) for b in bmu[lab == k]} for k in range(3)]
    assert not (nodes[0] & nodes[1] or nodes[0] & nodes[2] or nodes[1] & nodes[2])
    for k in range(3):
        for r, c in nodes[k]:
            np.testing.assert_allclose(som.states[r, c], PAYLOADS[k], atol=0.03)
            assert som.labels[r, c] == k
    assert som.hits.sum() == len(x)
    assert np.all((som.labels == -1) == (som.hits == 0))


def test_every_node_has_a_state_and_neighbours_vary_smoothly(
    trained: tuple[SomMap, np.ndarray, np.ndarray],
) -> None:
    """States are finite, >= 0, inside the payloads' range, and adjacent nodes differ by
    less than the payloads' full range."""
    som, _, _ = trained
    assert som.states.shape == (som.rows, som.cols, PAYLOADS.shape[1])
    assert np.all(np.isfinite(som.states)) and np.all(som.states >= 0)
    assert np.all(som.states <= PAYLOADS.max(axis=0) + 1e-12)
    assert np.all(som.states >= PAYLOADS.min(axis=0) - 1e-12)
    assert np.abs(np.diff(som.states, axis=0)).max() < 1.0
    assert np.abs(np.diff(som.states, axis=1)).max() < 1.0


def test_round_trip_is_exact(trained: tuple[SomMap, np.ndarray, np.ndarray]) -> None:
    """from_arrays(to_arrays()) gives identical arrays, history and state_at."""
    som, x, _ = trained
    back = SomMap.from_arrays(som.to_arrays())
    for name in ("weights", "mean", "std", "states", "labels", "hits"):
        np.testing.assert_array_equal(getattr(back, name), getattr(som, name))
    assert (back.rows, back.cols, back.sigma, back.history) == (
        som.rows,
        som.cols,
        som.sigma,
        som.history,
    )
    for xy in [(0.0, 0.0), (0.37, 0.81), (1.0, 0.5)]:
        np.testing.assert_array_equal(back.state_at(*xy), som.state_at(*xy))
    np.testing.assert_array_equal(back.bmu(x), som.bmu(x))


def test_round_trip_through_npz(
    tmp_path: Path, trained: tuple[SomMap, np.ndarray, np.ndarray]
) -> None:
    """A map saved with np.savez and loaded back gives the same states."""
    som, _, _ = trained
    np.savez(tmp_path / "som.npz", **som.to_arrays())
    with np.load(tmp_path / "som.npz") as d:
        back = SomMap.from_arrays(dict(d))
    np.testing.assert_array_equal(back.states, som.states)


def test_from_arrays_rejects_malformed(trained: tuple[SomMap, np.ndarray, np.ndarray]) -> None:
    """Missing keys, mismatched shapes and non-integer labels raise specific ValueErrors."""
    d = trained[0].to_arrays()
    with pytest.raises(ValueError, match=r"lack \['hits'\]"):
        SomMap.from_arrays({k: v for k, v in d.items() if k != "hits"})
    with pytest.raises(ValueError, match="mean must have shape"):
        SomMap.from_arrays({**d, "mean": d["mean"][:-1]})
    with pytest.raises(ValueError, match="states must be"):
        SomMap.from_arrays({**d, "states": d["states"][:-1]})
    with pytest.raises(ValueError, match="labels must be integers"):
        SomMap.from_arrays({**d, "labels": d["labels"].astype(float)})
    with pytest.raises(ValueError, match="history must be"):
        SomMap.from_arrays({**d, "history": np.zeros(3)})
    with pytest.raises(ValueError, match="states must be >= 0"):
        SomMap.from_arrays({**d, "states": -d["states"] - 1})


def test_state_at_node_centres_equals_states(
    trained: tuple[SomMap, np.ndarray, np.ndarray],
) -> None:
    """At x = c/(cols-1), y = r/(rows-1) state_at gives node (r, c)'s state."""
    som, _, _ = trained
    for r in range(som.rows):
        for c in range(som.cols):
            got = som.state_at(c / (som.cols - 1), r / (som.rows - 1))
            np.testing.assert_allclose(got, som.states[r, c], atol=1e-12)


def test_state_at_is_continuous_and_bounded(
    trained: tuple[SomMap, np.ndarray, np.ndarray],
) -> None:
    """A fine sweep moves the state by at most (step x cells x largest neighbour jump), stays
    within the states' min/max, and clips outside the unit square."""
    som, _, _ = trained
    jump = max(np.abs(np.diff(som.states, axis=0)).max(), np.abs(np.diff(som.states, axis=1)).max())
    lo, hi = som.states.min(axis=(0, 1)), som.states.max(axis=(0, 1))
    step = 1e-3
    xs = np.arange(0.0, 1.0 + step / 2, step)
    for y in (0.0, 0.23, 0.5, 1.0):
        sweep = np.array([som.state_at(x, y) for x in xs])  # (n, P)
        assert np.abs(np.diff(sweep, axis=0)).max() <= step * (som.cols - 1) * jump + 1e-12
        assert np.all(sweep >= lo - 1e-12) and np.all(sweep <= hi + 1e-12)
    np.testing.assert_array_equal(som.state_at(-0.5, 2.0), som.state_at(0.0, 1.0))
    with pytest.raises(ValueError, match="finite"):
        som.state_at(float("nan"), 0.5)


def test_u_matrix_high_between_clusters(trained: tuple[SomMap, np.ndarray, np.ndarray]) -> None:
    """The U-matrix is larger at the nodes between clusters than at the cluster nodes."""
    som, _, _ = trained
    u = som.u_matrix()
    assert u.shape == (som.rows, som.cols) and np.all(u >= 0)
    assert np.median(u[som.hits == 0]) > 2 * np.median(u[som.hits > 0])


def test_same_seed_same_map_other_seed_other_map() -> None:
    """Training is deterministic for a seed and depends on it."""
    x, pay, lab = _clusters(20)
    a = train_map(x, pay, lab, rows=5, cols=6, iterations=800, seed=7)
    b = train_map(x, pay, lab, rows=5, cols=6, iterations=800, seed=7)
    c = train_map(x, pay, lab, rows=5, cols=6, iterations=800, seed=8)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.states, b.states)
    assert a.history == b.history
    assert not np.array_equal(a.weights, c.weights)
    assert a.weights.shape == (5, 6, 10) and a.states.shape == (5, 6, 4)


def test_constant_feature_column_is_tolerated() -> None:
    """A constant column standardises with scale 1 instead of dividing by zero."""
    x, pay, lab = _clusters(10)
    x[:, 3] = 5.0
    som = train_map(x, pay, lab, rows=4, cols=4, iterations=300)
    assert som.std[3] == 1.0 and np.all(np.isfinite(som.weights))


@pytest.mark.parametrize(
    ("features", "payload", "labels", "message"),
    [
        (np.zeros((1, 3)), np.zeros((1, 2)), np.zeros(1, int), "at least 2 feature rows"),
        (np.full((4, 3), np.nan), np.zeros((4, 2)), np.zeros(4, int), "finite"),
        (np.zeros((4, 3)), np.zeros((5, 2)), np.zeros(4, int), "payload must be"),
        (np.zeros((4, 3)), np.zeros((4, 2)), np.zeros(3, int), "labels must be"),
        (np.zeros((4, 3)), -np.ones((4, 2)), np.zeros(4, int), ">= 0"),
        (np.zeros((4, 3)), np.zeros((4, 2)), np.zeros(4), "integers"),
        (np.zeros(4), np.zeros((4, 2)), np.zeros(4, int), r"\(n, D\)"),
    ],
)
def test_malformed_training_input_raises(
    features: np.ndarray, payload: np.ndarray, labels: np.ndarray, message: str
) -> None:
    """Too few rows, NaN features, mismatched lengths and bad payloads raise ValueError."""
    with pytest.raises(ValueError, match=message):
        train_map(features, payload, labels, rows=3, cols=3, iterations=10)


def test_queries_check_feature_width(trained: tuple[SomMap, np.ndarray, np.ndarray]) -> None:
    """Querying with the wrong number of features raises ValueError."""
    with pytest.raises(ValueError, match="expected 10 features"):
        trained[0].bmu(np.zeros((2, 9)))
