"""The status record: one typed source for /status, its pushed fields and the docs."""

from __future__ import annotations

import dataclasses

import pytest

from bassd.control.status import FIELDS, STATUS_FIELDS, Status, docs_table, field_messages


def test_an_unknown_figure_is_an_error_not_a_new_field() -> None:
    """A layer reporting a figure the record does not declare fails loudly."""
    with pytest.raises(KeyError, match="underruns"):
        Status.from_parts({"dry_callbacks": 0}, {"underruns": 3})


def test_pushed_fields_and_docs_derive_from_the_record() -> None:
    """STATUS_FIELDS is the record's pushed fields, typed; the docs table lists every field."""
    pushed = [(f.name, f.metadata["osc"]) for f in FIELDS if f.metadata["push"]]
    assert list(STATUS_FIELDS) == pushed
    assert ("dry_callbacks", "i") in STATUS_FIELDS and ("server_xruns", "i") in STATUS_FIELDS
    table = "\n".join(docs_table())
    assert all(f"`{f.name}`" in table for f in dataclasses.fields(Status))


def test_field_messages_are_typed_and_never_none() -> None:
    """Each pushed field becomes one message of its OSC type; missing values become 0 or ''."""
    msgs = dict(field_messages(Status.from_parts({"dry_callbacks": 2, "bpm": None})))
    assert msgs["/status/dry_callbacks"] == 2 and msgs["/status/bpm"] == 0.0
    assert msgs["/status/prompt"] == ""
    assert len(msgs) == len(STATUS_FIELDS)
