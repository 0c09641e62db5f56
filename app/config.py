"""The whole configuration: sections from every layer, YAML loading, one-line errors.

Defaults ship inside the package (``bassd/configs/defaults.yaml``); a user file
and ``--set section.key=value`` overrides are merged over them. Any unknown key,
wrong type or out-of-range value is reported as one line naming the key and
what is allowed, before anything starts.

Relative paths in a config file are relative to that file's folder (so a
config works whatever the working directory); relative paths given with
``--set`` are relative to the working directory, like any command-line path.
"""

from __future__ import annotations

import types
import typing
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from bassd.app.layers_config import LayersConfig
from bassd.app.library_config import LibraryConfig
from bassd.control.ble_bridge import BleConfig
from bassd.control.config import ControlConfig, OscConfig
from bassd.control.group_config import GroupConfig, check_group_osc
from bassd.control.hr import HrConfig
from bassd.control.hrv_monitor import HrvConfig
from bassd.control.midi_config import MidiConfig
from bassd.control.prompt_schema import PromptsConfig
from bassd.control.protocol import ProtocolConfig
from bassd.control.steering import EmotionConfig, ScenesConfig
from bassd.control.yaml_text import load_yaml
from bassd.engine.config import (
    AudioConfig,
    DebugConfig,
    FallbackConfig,
    FxConfig,
    OutputsConfig,
    RendererConfig,
    Strict,
    TimelineConfig,
    WatchdogConfig,
)
from bassd.engine.jam_config import JamConfig
from bassd.models.config import MusicgenConfig
from bassd.models.search_config import SearchConfig
from bassd.models.vae_config import VaeSection


class ConfigError(ValueError):
    """A configuration problem, already phrased as one line for the user."""


class LoggingConfig(Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class Config(Strict):
    audio: AudioConfig = AudioConfig()
    timeline: TimelineConfig = TimelineConfig()
    renderer: RendererConfig = RendererConfig()
    musicgen: MusicgenConfig = MusicgenConfig()
    vae: VaeSection = VaeSection()
    search: SearchConfig = SearchConfig()
    library: LibraryConfig = LibraryConfig()
    layers: LayersConfig = LayersConfig()
    fallback: FallbackConfig = FallbackConfig()
    fx: FxConfig = FxConfig()
    outputs: OutputsConfig = OutputsConfig()
    osc: OscConfig = OscConfig()
    hr: HrConfig = HrConfig()
    hrv: HrvConfig = HrvConfig()
    ble: BleConfig = BleConfig()
    prompts: PromptsConfig = PromptsConfig()
    jam: JamConfig = JamConfig()
    midi: MidiConfig = MidiConfig()
    control: ControlConfig = ControlConfig()
    emotion: EmotionConfig = EmotionConfig()
    scenes: ScenesConfig = ScenesConfig()
    protocol: ProtocolConfig = ProtocolConfig()
    group: GroupConfig = GroupConfig()
    watchdog: WatchdogConfig = WatchdogConfig()
    logging: LoggingConfig = LoggingConfig()
    debug: DebugConfig = DebugConfig()

    @model_validator(mode="after")
    def _adapters_exist(self) -> Config:
        """With the neural renderer, every adapter the config names must be found."""
        if self.renderer.name != "musicgen":
            return self
        from bassd.adapters.lora_files import AdapterError, resolve_adapter

        m = self.musicgen
        dirs = [m.adapters_dir] if m.adapters_dir is not None else []
        named = [("musicgen.adapters", n) for n in m.adapters]
        for state, blend in m.state_adapters.items():
            named += [(f"musicgen.state_adapters.{state}", n) for n in blend]
        for key, name in named:
            try:
                resolve_adapter(name, dirs)
            except AdapterError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return self

    @model_validator(mode="after")
    def _scenes_load(self) -> Config:
        """The scenes (shipped, scenes.file, inline) all read and validate."""
        from bassd.control.scene_loading import load_scenes

        try:
            load_scenes(self.scenes)
        except ValueError as exc:
            raise ValueError(f"scenes: {exc}") from None
        return self

    @model_validator(mode="after")
    def _vae_model_exists(self) -> Config:
        """With the VAE renderer, the model (and its sliders, preset, blend) must be found."""
        if self.renderer.name != "vae":
            return self
        from bassd.models.vae_resolve import resolve_vae

        try:
            resolve_vae(self.vae)
        except ValueError as exc:
            raise ValueError(f"vae: {exc}") from None
        return self

    @model_validator(mode="after")
    def _group_reachable(self) -> Config:
        """The group's peers against the OSC section (control/group_config.py)."""
        check_group_osc(self.group, self.osc)
        return self

    @model_validator(mode="after")
    def _fx_below_nyquist(self) -> Config:
        nyquist = self.audio.sample_rate / 2
        if self.fx.lpf_hz >= nyquist:
            raise ValueError(
                f"fx.lpf_hz ({self.fx.lpf_hz:g}) must be below Nyquist ({nyquist:g} Hz "
                f"at sample_rate {self.audio.sample_rate})"
            )
        return self


def _field_annotation(model: Any, keys: list[str]) -> Any:
    """The annotation of the field at ``keys`` below ``model`` (None if there is none)."""
    current: Any = model
    annotation: Any = None
    for key in keys:
        fields = getattr(current, "model_fields", None)
        if not fields or key not in fields:
            return None
        annotation = fields[key].annotation
        current = _model_in(annotation)
    return annotation


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``Model`` or ``Model | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _is(annotation: Any, kind: type) -> bool:
    """``annotation`` is ``kind`` or ``kind | None``."""
    if annotation is kind:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return kind in typing.get_args(annotation)
    return False


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at the parent of ``loc`` (for unknown-key errors)."""
    parent = _model_in(_field_annotation(model, [str(p) for p in loc[:-1]])) if loc[:-1] else model
    return list(getattr(parent, "model_fields", {}))


def format_validation_error(err: ValidationError, source: str = "config") -> str:
    """One line per problem: ``source: section.key: what is wrong (got X)``."""
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(Config, loc)
            lines.append(f"{source}: {key}: unknown key (allowed: {', '.join(allowed)})")
            continue
        msg = e["msg"].removeprefix("Value error, ")
        got = e.get("input")
        suffix = (
            ""
            if isinstance(got, dict) or e["type"].startswith("value_error")
            else f" (got {got!r})"
        )
        lines.append(f"{source}: {key}: {msg}{suffix}")
    return "\n".join(lines)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _read_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{source}:{where} is not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a mapping of sections, got {type(data).__name__}")
    return data


def _resolve_paths(data: dict[str, Any], folder: Path, model: Any = Config) -> dict[str, Any]:
    """Relative path values of a config file, made relative to the file's folder."""
    out = dict(data)
    fields = getattr(model, "model_fields", {})
    for key, value in data.items():
        if key not in fields:
            continue  # reported as an unknown key by validation
        annotation = fields[key].annotation
        sub = _model_in(annotation)
        if sub is not None and isinstance(value, dict):
            out[key] = _resolve_paths(value, folder, sub)
        elif _is(annotation, Path) and isinstance(value, str) and value:
            path = Path(value).expanduser()
            out[key] = str(path if path.is_absolute() else folder / path)
    return out


def defaults_text() -> str:
    return files("bassd.configs").joinpath("defaults.yaml").read_text(encoding="utf-8")


def parse_override(item: str) -> tuple[list[str], Any]:
    """``section.key=value`` → (['section', 'key'], value).

    The value is read as YAML (numbers, booleans, lists), except for a text
    setting, which takes the text as written (``--set osc.secret=1234``).
    """
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected section.key=value")
    key, _, raw = item.partition("=")
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise ConfigError(f"--set {item!r}: empty key")
    if _is(_field_annotation(Config, path), str) and raw.strip() not in ("", "null", "~"):
        return path, raw
    try:
        value = load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return path, value


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults, then the user file, then ``--set`` overrides; validated as a whole."""
    data = _read_yaml(defaults_text(), "defaults.yaml")
    source = "config"
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"config file {p}: cannot read it: {exc.strerror or exc}") from None
        user = _resolve_paths(_read_yaml(text, str(p)), p.resolve().parent)
        data = _deep_merge(data, user)
        source = str(p)
    for item in overrides or []:
        keys, value = parse_override(item)
        nested: Any = value
        for k in reversed(keys):
            nested = {k: nested}
        data = _deep_merge(data, nested)
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source)) from None
