"""Imports while the music plays: warmed before it, counted and named after it."""

from __future__ import annotations

import sys

import pytest
from structlog.testing import capture_logs

from bassd.app.import_watch import FIRST_USE, ImportWatch, warm


def test_a_module_imported_after_arming_is_counted_and_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A module arriving after arm() is logged by name and counted once; nothing new, nothing
    counted."""
    watch = ImportWatch()
    assert watch.check() == []  # not armed: nothing is watched
    watch.arm()
    assert watch.check() == []
    monkeypatch.setitem(sys.modules, "bassd_probe_module", type(sys)("bassd_probe_module"))
    with capture_logs() as logs:
        assert watch.check() == ["bassd_probe_module"]
        assert watch.check() == []
    assert watch.late_imports == 1
    assert [e["modules"] for e in logs if e["event"] == "late_import"] == [["bassd_probe_module"]]


def test_warm_imports_what_the_loop_would_import_on_first_use() -> None:
    """warm() leaves every first-use module in sys.modules (numpy.ma among them), and a name
    that does not exist is an error, not skipped."""
    warm()
    assert all(name in sys.modules for name in FIRST_USE)
    with pytest.raises(ModuleNotFoundError):
        warm(("bassd_no_such_module",))


def test_warm_builds_the_limiter_table_before_the_music() -> None:
    """After warm(), the first bank's loudness solve finds the limiter's table built."""
    from bassd.dsp import loudness

    loudness._tanh_table.cache_clear()
    warm()
    assert loudness._tanh_table.cache_info().currsize == 1
