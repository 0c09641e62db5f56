"""Configuration: pydantic models, YAML loading and one-line error messages.

Defaults ship inside the package (``bassd/configs/defaults.yaml``); a user file
and ``--set section.key=value`` overrides are merged over them. Any unknown key,
wrong type or out-of-range value is reported as one line naming the key and
what is allowed, before anything starts.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bassd.control.hr import HrConfig
from bassd.control.prompt_bank import PromptsConfig
from bassd.dsp.bank_params import KuramotoParams


class ConfigError(ValueError):
    """A configuration problem, already phrased as one line for the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AudioConfig(_Strict):
    sample_rate: Literal[44100, 48000, 88200, 96000] = 48000
    block_size: int = Field(256, ge=16, le=4096)
    channels: Literal[2] = 2
    device: str | None = None
    ring_frames: int = Field(8192, ge=512, le=1 << 20)
    target_fill_frames: int = Field(1024, ge=64)
    fade_frames: int = Field(64, ge=1, le=4096)
    realtime_priority: int = Field(20, ge=0, le=98)

    @field_validator("ring_frames")
    @classmethod
    def _pow2(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError(f"must be a power of two (e.g. 4096, 8192), got {v}")
        return v

    @model_validator(mode="after")
    def _fits(self) -> AudioConfig:
        if self.target_fill_frames < 2 * self.block_size:
            raise ValueError(
                f"target_fill_frames ({self.target_fill_frames}) must be at least two blocks "
                f"(2 × block_size = {2 * self.block_size})"
            )
        if self.target_fill_frames + self.block_size > self.ring_frames:
            raise ValueError(
                f"target_fill_frames + block_size ({self.target_fill_frames + self.block_size}) "
                f"must fit in ring_frames ({self.ring_frames})"
            )
        return self


class TimelineConfig(_Strict):
    segment_seconds: float = Field(24.0, ge=2.0, le=600.0)
    crossfade_seconds: float = Field(1.5, ge=0.0, le=30.0)
    lookahead: int = Field(2, ge=1, le=8)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _crossfade_fits(self) -> TimelineConfig:
        if self.crossfade_seconds > self.segment_seconds / 2:
            raise ValueError(
                f"crossfade_seconds ({self.crossfade_seconds:g}) must be at most half of "
                f"segment_seconds ({self.segment_seconds:g})"
            )
        return self


class RendererConfig(_Strict):
    name: Literal["kuramoto"] = "kuramoto"
    params: KuramotoParams = KuramotoParams()


class FallbackConfig(_Strict):
    params: KuramotoParams = KuramotoParams(
        key="C", mode="ionian", tempo_bpm=60.0, brightness=0.4, density=48, coupling=1.5
    )


class FxConfig(_Strict):
    gain_db: float = Field(0.0, ge=-60.0, le=24.0)
    hpf_hz: float = Field(120.0, ge=10.0, le=2000.0)
    lpf_hz: float = Field(10000.0, ge=1000.0, le=20000.0)
    drive: float = Field(1.6, ge=0.1, le=10.0)
    peak: float = Field(0.9, ge=0.05, le=1.0)

    @model_validator(mode="after")
    def _band(self) -> FxConfig:
        if self.hpf_hz >= self.lpf_hz:
            raise ValueError(f"hpf_hz ({self.hpf_hz:g}) must be below lpf_hz ({self.lpf_hz:g})")
        return self


class OutputsConfig(_Strict):
    dir: Path = Path("outputs")
    metrics_csv: Path = Path("outputs/metrics.csv")
    keep_audio: bool = True
    audio_dir: Path = Path("outputs/audio")
    sessions_dir: Path = Path("outputs/sessions")


class OscConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    reply_port: int = Field(9000, ge=1, le=65535)
    allow: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    rate_limit: float = Field(100_000.0, gt=0.0)  # messages per second per source address
    rate_burst: float = Field(20_000.0, ge=1.0)
    secret: str | None = None  # required (last string argument) on state-changing messages
    max_datagram: int = Field(8192, ge=64, le=65507)
    max_bundle_depth: int = Field(4, ge=1, le=16)
    max_scheduled: int = Field(1024, ge=0, le=100_000)
    max_schedule_ahead_seconds: float = Field(60.0, gt=0.0, le=3600.0)
    push_hz: float = Field(10.0, gt=0.0, le=100.0)
    subscription_seconds: float = Field(60.0, gt=0.0)
    max_subscribers: int = Field(16, ge=1, le=256)
    receive_buffer_bytes: int = Field(4 << 20, ge=65536)

    @field_validator("allow")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for net in v:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(
                    f"{net!r} is not a network in CIDR notation (e.g. 10.0.0.0/24)"
                ) from None
        return v

    @model_validator(mode="after")
    def _exposure(self) -> OscConfig:
        loopback = self.host in ("127.0.0.1", "localhost", "::1")
        if not loopback and self.allow == ["127.0.0.0/8", "::1/128"]:
            raise ValueError(
                f"host {self.host!r} listens beyond loopback: list the source networks allowed "
                "to control the daemon in osc.allow (CIDR, e.g. ['192.168.1.0/24'])"
            )
        return self


class ControlConfig(_Strict):
    state_change: Literal["next_segment", "early_crossfade"] = "early_crossfade"
    early_crossfade_seconds: float = Field(4.0, ge=0.1, le=30.0)
    structural_crossfade_seconds: float = Field(2.0, ge=0.05, le=30.0)
    prompts_dir: Path | None = None  # where /prompt/bank may load files from


class WatchdogConfig(_Strict):
    interval_seconds: float = Field(0.1, gt=0.0, le=1.0)
    stall_seconds: float = Field(0.5, gt=0.0, le=10.0)
    backoff_seconds: list[float] = Field(default_factory=lambda: [0.1, 0.25, 0.5, 1.0, 2.0, 5.0])

    @field_validator("backoff_seconds")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if not v or any(x <= 0 for x in v):
            raise ValueError("must be a non-empty list of positive seconds")
        return v


class LoggingConfig(_Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class DebugConfig(_Strict):
    fault_injection: bool = False


class Config(_Strict):
    audio: AudioConfig = AudioConfig()
    timeline: TimelineConfig = TimelineConfig()
    renderer: RendererConfig = RendererConfig()
    fallback: FallbackConfig = FallbackConfig()
    fx: FxConfig = FxConfig()
    outputs: OutputsConfig = OutputsConfig()
    osc: OscConfig = OscConfig()
    hr: HrConfig = HrConfig()
    prompts: PromptsConfig = PromptsConfig()
    control: ControlConfig = ControlConfig()
    watchdog: WatchdogConfig = WatchdogConfig()
    logging: LoggingConfig = LoggingConfig()
    debug: DebugConfig = DebugConfig()

    @model_validator(mode="after")
    def _fx_below_nyquist(self) -> Config:
        nyquist = self.audio.sample_rate / 2
        if self.fx.lpf_hz >= nyquist:
            raise ValueError(
                f"fx.lpf_hz ({self.fx.lpf_hz:g}) must be below Nyquist ({nyquist:g} Hz "
                f"at sample_rate {self.audio.sample_rate})"
            )
        return self


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at the parent of ``loc`` (for unknown-key errors)."""
    current: Any = model
    for part in loc[:-1]:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = field.annotation
    return list(getattr(current, "model_fields", {}))


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
        data = yaml.safe_load(text)
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


def defaults_text() -> str:
    return files("bassd.configs").joinpath("defaults.yaml").read_text(encoding="utf-8")


def parse_override(item: str) -> tuple[list[str], Any]:
    """``section.key=value`` → (['section', 'key'], parsed YAML value)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected section.key=value")
    key, _, raw = item.partition("=")
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
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
        data = _deep_merge(data, _read_yaml(text, str(p)))
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
