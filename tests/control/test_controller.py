"""The controller over real UDP: prompt banks from the prompts folder, bounded and off the loop."""

from __future__ import annotations

import json
import shutil

from bassd.control.osc_codec import encode_message
from bassd.control.prompt_loading import shipped_prompts_dir
from tests.control.harness import Harness, run


def test_prompt_bank_loads_a_file_from_the_folder(harness: Harness) -> None:
    """/prompt/bank loads a valid bank (off the loop), switches to it and records it."""
    shutil.copy(
        shipped_prompts_dir() / "emotion_prompt_bank.json", harness.tmp / "prompts" / "mine.json"
    )

    async def go() -> None:
        await harness.start()
        old = harness.controller.bank
        harness.send(encode_message("/prompt/bank", "mine.json"))
        for _ in range(100):
            await harness.settle(0.02)
            if harness.controller.bank is not old:
                break
        assert harness.controller.bank is not old and len(harness.controller.bank) == len(old)
        assert not [m for m in harness.replies() if m.address == "/error"]

    run(go())
    rows = (harness.tmp / "sessions" / "test" / "events.csv").read_text()
    assert "prompt_bank,mine.json" in rows


def test_prompt_bank_refuses_a_file_over_the_size_limit(harness: Harness) -> None:
    """A bank file larger than control.max_bank_bytes is refused before it is read."""
    big = harness.tmp / "prompts" / "huge.json"
    big.write_text(json.dumps([{"pad": "x" * 2_000_000}]))

    async def go() -> None:
        await harness.start()
        old = harness.controller.bank
        harness.send(encode_message("/prompt/bank", "huge.json"))
        await harness.settle(0.2)
        errors = [m.args[1] for m in harness.replies() if m.address == "/error"]
        assert len(errors) == 1 and "max_bank_bytes" in errors[0]
        assert harness.controller.bank is old

    run(go())


def test_an_invalid_bank_is_answered_and_the_old_one_kept(harness: Harness) -> None:
    """A bank that does not validate is answered with /error; the playing bank stays."""
    (harness.tmp / "prompts" / "bad.json").write_text('[{"id": "x"}]')

    async def go() -> None:
        await harness.start()
        old = harness.controller.bank
        harness.send(encode_message("/prompt/bank", "bad.json"))
        errors: list[str] = []
        for _ in range(100):
            await harness.settle(0.02)
            errors += [m.args[1] for m in harness.replies() if m.address == "/error"]
            if errors:
                break
        assert errors and "bad.json" in errors[0]
        assert harness.controller.bank is old

    run(go())
