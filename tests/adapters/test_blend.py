"""WeightBlender: the exact weight-space sum, bit-exact restore, and peft's semantics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from bassd.adapters.blend import WeightBlender
from bassd.adapters.lora_files import AdapterError, LoraAdapter, load_adapter
from tests.adapters.synth import expected_deltas

BLENDS = {
    "one": [("plain", 0.8)],
    "two": [("plain", -1.3), ("rs_emb", 0.45)],
    "three": [("plain", 0.0), ("rs_emb", -0.7), ("patterned", 2.5)],
}


def _inputs(model: Any) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    k = model.decoder.num_codebooks
    return {
        "input_ids": torch.tensor([[5, 11, 7, 1]]),
        "attention_mask": torch.ones(1, 4, dtype=torch.long),
        "decoder_input_ids": torch.randint(0, 64, (k, 6), generator=g),
    }


def logits(model: Any) -> torch.Tensor:
    """The model's logits for one fixed text and one fixed code sequence."""
    with torch.no_grad():
        return model(**_inputs(model)).logits


def _weights(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("which", list(BLENDS))
def test_blend_equals_independent_weight_sum(
    which: str, fresh_model: Callable[[], Any], adapter_dirs: dict[str, Path]
) -> None:
    """After apply, each adapted weight is W + Σ wᵢ·sᵢ·BᵢAᵢ recomputed from the files."""
    model = fresh_model()
    base = _weights(model)
    blend = BLENDS[which]
    WeightBlender(model).apply([(load_adapter(adapter_dirs[n]), w) for n, w in blend])
    expected: dict[str, torch.Tensor] = {}
    for name, w in blend:
        for module, d in expected_deltas(adapter_dirs[name]).items():
            expected[module] = expected.get(module, 0) + w * d
    assert len(expected) > 10
    modules = dict(model.named_modules())
    for module, delta in expected.items():
        got = modules[module].weight.detach().double()
        want = base[module + ".weight"].double() + delta
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=module)
        if delta.abs().max() > 0:  # a zero-weight adapter's modules stay put
            assert not torch.equal(modules[module].weight, base[module + ".weight"]), module
    for key, value in model.state_dict().items():  # nothing else moved
        if key.removesuffix(".weight") not in expected:
            assert torch.equal(value, base[key]), key


def test_zero_and_empty_blends_restore_base_exactly(
    fresh_model: Callable[[], Any], adapter_dirs: dict[str, Path]
) -> None:
    """All-zero weights, and an empty blend after a real one, give the base weights and logits bit for bit."""
    model = fresh_model()
    base_w, base_out = _weights(model), logits(model)
    adapters = [load_adapter(p) for p in adapter_dirs.values()]
    blender = WeightBlender(model)
    blender.apply([(a, 0.0) for a in adapters])
    assert all(torch.equal(v, base_w[k]) for k, v in model.state_dict().items())
    assert torch.equal(logits(model), base_out)

    blender.apply([(adapters[0], 0.9), (adapters[1], -2.0), (adapters[2], 1.7)])
    assert not torch.equal(logits(model), base_out)
    blender.apply([(adapters[1], 0.3)])  # re-blend: a module only in adapter 0 goes back
    blender.apply([])
    for k, v in model.state_dict().items():
        assert torch.equal(v, base_w[k]), k
    assert torch.equal(logits(model), base_out)


def test_blend_matches_peft_forward_single_adapter(
    fresh_model: Callable[[], Any], adapter_dirs: dict[str, Path]
) -> None:
    """One adapter at weight 1 gives the logits of peft's own (unmerged) forward with it active."""
    from peft import PeftModel

    for name in adapter_dirs:
        pm = PeftModel.from_pretrained(fresh_model(), str(adapter_dirs[name])).eval()
        ours = fresh_model()
        WeightBlender(ours).apply([(load_adapter(adapter_dirs[name]), 1.0)])
        want = logits(pm)
        assert not torch.allclose(want, logits(fresh_model()), atol=1e-3), name
        torch.testing.assert_close(logits(ours), want, rtol=1e-4, atol=1e-5, msg=name)


def test_blend_matches_peft_weighted_multi_adapter(
    fresh_model: Callable[[], Any], adapter_dirs: dict[str, Path]
) -> None:
    """Two active peft adapters with scales multiplied by w₁, w₂ equal our blend (w₁, w₂)."""
    from peft import PeftModel
    from peft.tuners.lora import LoraLayer

    w = {"plain": 0.6, "rs_emb": -1.4}
    pm = PeftModel.from_pretrained(fresh_model(), str(adapter_dirs["plain"]), adapter_name="plain")
    pm.load_adapter(str(adapter_dirs["rs_emb"]), adapter_name="rs_emb")
    pm.base_model.set_adapter(list(w))
    for module in pm.modules():
        if isinstance(module, LoraLayer):
            for name, weight in w.items():
                module.set_scale(name, weight)
    ours = fresh_model()
    WeightBlender(ours).apply([(load_adapter(adapter_dirs[n]), x) for n, x in w.items()])
    torch.testing.assert_close(logits(ours), logits(pm.eval()), rtol=1e-4, atol=1e-5)


def test_apply_writes_in_place_and_versions(
    fresh_model: Callable[[], Any], adapter_dirs: dict[str, Path]
) -> None:
    """apply changes the existing parameter tensors, reports the blend and bumps version only on change."""
    model = fresh_model()
    q = model.decoder.model.decoder.layers[0].self_attn.q_proj.weight
    ptr, before = q.data_ptr(), q.detach().clone()
    plain = load_adapter(adapter_dirs["plain"])
    blender = WeightBlender(model)
    assert blender.version == 0 and blender.current == []
    blender.apply([(plain, 0.5)])
    assert model.decoder.model.decoder.layers[0].self_attn.q_proj.weight is q
    assert q.data_ptr() == ptr and not torch.equal(q, before)
    assert blender.version == 1 and blender.current == [("plain", 0.5)]
    blender.apply([(plain, 0.5)])
    assert blender.version == 1
    blender.apply([(plain, 0.25)])
    assert blender.version == 2
    torch.testing.assert_close(q.detach(), before + 0.25 * plain.deltas[
        "decoder.model.decoder.layers.0.self_attn.q_proj"])  # fmt: skip


def test_blend_deltas_is_the_weighted_sum(
    adapter_dirs: dict[str, Path], fresh_model: Callable[[], Any]
) -> None:
    """blend_deltas returns Σ w·Δ per module and leaves out zero-weight adapters."""
    a, b = load_adapter(adapter_dirs["plain"]), load_adapter(adapter_dirs["patterned"])
    blender = WeightBlender(fresh_model())
    d = blender.blend_deltas([(a, 2.0), (b, -0.5)])
    assert set(d) == set(a.deltas) | set(b.deltas)
    m = "decoder.model.decoder.layers.1.fc1"
    torch.testing.assert_close(d[m], 2.0 * a.deltas[m] - 0.5 * b.deltas[m])
    assert set(blender.blend_deltas([(a, 0.0), (b, 1.0)])) == set(b.deltas)


def test_low_precision_model_restores_exactly(
    fresh_model: Callable[[], Any], adapter_dirs: dict[str, Path]
) -> None:
    """On a bfloat16 model a blend moves the weights and clearing restores them bit for bit."""
    model = fresh_model().to(torch.bfloat16)
    base = _weights(model)
    blender = WeightBlender(model)
    blender.apply([(load_adapter(adapter_dirs["rs_emb"]), 3.0)])
    emb = "decoder.model.decoder.embed_tokens.0.weight"
    assert model.state_dict()[emb].dtype == torch.bfloat16
    assert not torch.equal(model.state_dict()[emb], base[emb])
    blender.clear()
    assert all(torch.equal(v, base[k]) for k, v in model.state_dict().items())


def test_wrong_module_or_shape_raises_before_writing(
    fresh_model: Callable[[], Any], adapter_dirs: dict[str, Path]
) -> None:
    """An adapter naming a missing module, or with a delta of the wrong shape, raises AdapterError and changes nothing."""
    model = fresh_model()
    base = _weights(model)
    good = load_adapter(adapter_dirs["plain"])
    missing = LoraAdapter("ghost", Path("/x/ghost"), {"decoder.lm_heads.9": torch.ones(64, 32)})
    m = "decoder.model.decoder.layers.0.fc1"
    wrong = LoraAdapter("wide", Path("/x/wide"), {m: torch.ones(128, 32)})
    blender = WeightBlender(model)
    with pytest.raises(AdapterError, match=r"ghost.*decoder\.lm_heads\.9.*no such module"):
        blender.apply([(good, 1.0), (missing, 0.0)])
    with pytest.raises(AdapterError, match=r"wide.*fc1.*\(128, 32\).*\(64, 32\)"):
        blender.apply([(good, 1.0), (wrong, 1.0)])
    assert all(torch.equal(v, base[k]) for k, v in model.state_dict().items())
    assert blender.version == 0
