"""PortAudio, declared here: the few functions and structs the device process uses.

ABI mode: ``ffi.dlopen("libportaudio.so.2")`` with the declarations written as
portaudio.h (v19) declares them, so only the runtime library (Debian:
libportaudio2) is needed, no headers and no compiler, and no other package's
private API stands between the daemon and PortAudio.

The stream's callback is a C function pointer (``bassd_callback`` from
engine/rtcore.c) with a ``void *`` userdata: PortAudio calls it directly on
its real-time thread; no Python runs in the audio path.

``PortAudio()`` initialises the library (``Pa_Initialize``, reference counted
by PortAudio itself) and ``terminate()`` ends that. With a JACK host API,
initialising opens a JACK client, and terminating after the server vanished
aborts the process: hold PortAudio only in a process that may die with it
(the device process, a short ``bassd devices``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cffi import FFI

LIBRARY = "libportaudio.so.2"

_CDEF = """
typedef int PaError;
typedef int PaDeviceIndex;
typedef int PaHostApiIndex;
typedef double PaTime;
typedef unsigned long PaSampleFormat;
typedef unsigned long PaStreamFlags;
typedef unsigned long PaStreamCallbackFlags;
typedef void PaStream;

typedef enum PaHostApiTypeId {
    paInDevelopment = 0, paDirectSound = 1, paMME = 2, paASIO = 3, paSoundManager = 4,
    paCoreAudio = 5, paOSS = 7, paALSA = 8, paAL = 9, paBeOS = 10, paWDMKS = 11,
    paJACK = 12, paWASAPI = 13, paAudioScienceHPI = 14
} PaHostApiTypeId;

typedef struct PaHostApiInfo {
    int structVersion;
    PaHostApiTypeId type;
    const char *name;
    int deviceCount;
    PaDeviceIndex defaultInputDevice;
    PaDeviceIndex defaultOutputDevice;
} PaHostApiInfo;

typedef struct PaHostErrorInfo {
    PaHostApiTypeId hostApiType;
    long errorCode;
    const char *errorText;
} PaHostErrorInfo;

typedef struct PaDeviceInfo {
    int structVersion;
    const char *name;
    PaHostApiIndex hostApi;
    int maxInputChannels;
    int maxOutputChannels;
    PaTime defaultLowInputLatency;
    PaTime defaultLowOutputLatency;
    PaTime defaultHighInputLatency;
    PaTime defaultHighOutputLatency;
    double defaultSampleRate;
} PaDeviceInfo;

typedef struct PaStreamParameters {
    PaDeviceIndex device;
    int channelCount;
    PaSampleFormat sampleFormat;
    PaTime suggestedLatency;
    void *hostApiSpecificStreamInfo;
} PaStreamParameters;

typedef struct PaStreamCallbackTimeInfo {
    PaTime inputBufferAdcTime;
    PaTime currentTime;
    PaTime outputBufferDacTime;
} PaStreamCallbackTimeInfo;

typedef struct PaStreamInfo {
    int structVersion;
    PaTime inputLatency;
    PaTime outputLatency;
    double sampleRate;
} PaStreamInfo;

typedef int PaStreamCallback(const void *input, void *output, unsigned long frameCount,
                             const PaStreamCallbackTimeInfo *timeInfo,
                             PaStreamCallbackFlags statusFlags, void *userData);

const char *Pa_GetVersionText(void);
const char *Pa_GetErrorText(PaError errorCode);
const PaHostErrorInfo *Pa_GetLastHostErrorInfo(void);
PaError Pa_Initialize(void);
PaError Pa_Terminate(void);
PaHostApiIndex Pa_GetHostApiCount(void);
const PaHostApiInfo *Pa_GetHostApiInfo(PaHostApiIndex hostApi);
PaDeviceIndex Pa_GetDeviceCount(void);
PaDeviceIndex Pa_GetDefaultOutputDevice(void);
const PaDeviceInfo *Pa_GetDeviceInfo(PaDeviceIndex device);
PaError Pa_OpenStream(PaStream **stream, const PaStreamParameters *inputParameters,
                      const PaStreamParameters *outputParameters, double sampleRate,
                      unsigned long framesPerBuffer, PaStreamFlags streamFlags,
                      PaStreamCallback *streamCallback, void *userData);
PaError Pa_StartStream(PaStream *stream);
PaError Pa_StopStream(PaStream *stream);
PaError Pa_AbortStream(PaStream *stream);
PaError Pa_CloseStream(PaStream *stream);
const PaStreamInfo *Pa_GetStreamInfo(PaStream *stream);
"""

PA_FLOAT32 = 0x00000001  # paFloat32, interleaved
PA_NO_FLAG = 0
PA_NO_DEVICE = -1
PA_UNANTICIPATED_HOST_ERROR = -9999

ffi = FFI()
ffi.cdef(_CDEF)
_lib: Any = None


class PortAudioError(RuntimeError):
    """A PortAudio call failed (message names the call and PortAudio's own text)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def load(name: str = LIBRARY) -> Any:
    """The PortAudio library (loaded once); PortAudioError in one line if it is missing."""
    global _lib
    if _lib is not None and name == LIBRARY:
        return _lib
    try:
        lib = ffi.dlopen(name)
    except OSError:
        raise PortAudioError(
            f"PortAudio is not installed ({name} not found): install libportaudio2 "
            "(Debian/Ubuntu: apt-get install libportaudio2)"
        ) from None
    if name == LIBRARY:
        _lib = lib
    return lib


def version_text() -> str:
    """PortAudio's version text; needs no initialisation."""
    return _str(load().Pa_GetVersionText())


def error_text(code: int) -> str:
    """PortAudio's text for an error code; needs no initialisation."""
    return _str(load().Pa_GetErrorText(code))


def _str(p: Any) -> str:
    return "" if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def _check(lib: Any, err: int, call: str) -> None:
    if err >= 0:
        return
    text = _str(lib.Pa_GetErrorText(err))
    if err == PA_UNANTICIPATED_HOST_ERROR:
        host = lib.Pa_GetLastHostErrorInfo()
        if host != ffi.NULL and host.errorText != ffi.NULL:
            text += f" ({_str(host.errorText)}, host error {int(host.errorCode)})"
    raise PortAudioError(f"{call}: {text}", err)


@dataclass(frozen=True)
class HostApi:
    index: int
    name: str
    type: int
    default_output: int  # a device index, or -1


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    hostapi: int
    max_input_channels: int
    max_output_channels: int
    low_output_latency: float
    high_output_latency: float
    default_sample_rate: float


class PortAudio:
    """An initialised PortAudio; ``terminate()`` (or ``with``) ends it."""

    def __init__(self, library: str = LIBRARY) -> None:
        self._lib = load(library)
        _check(self._lib, self._lib.Pa_Initialize(), "Pa_Initialize")
        self._live = True

    def __enter__(self) -> PortAudio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.terminate()

    def terminate(self) -> None:
        if self._live:
            self._live = False
            _check(self._lib, self._lib.Pa_Terminate(), "Pa_Terminate")

    def _need_live(self) -> None:
        if not self._live:
            raise PortAudioError("PortAudio was terminated")

    # --------------------------------------------------------------- queries
    def host_api(self, index: int) -> HostApi:
        self._need_live()
        info = self._lib.Pa_GetHostApiInfo(index)
        if info == ffi.NULL:
            raise PortAudioError(f"Pa_GetHostApiInfo: no host API {index}")
        return HostApi(index, _str(info.name), int(info.type), int(info.defaultOutputDevice))

    def host_apis(self) -> list[HostApi]:
        self._need_live()
        count = self._lib.Pa_GetHostApiCount()
        _check(self._lib, count, "Pa_GetHostApiCount")
        return [self.host_api(i) for i in range(count)]

    def device(self, index: int) -> Device:
        self._need_live()
        info = self._lib.Pa_GetDeviceInfo(index)
        if info == ffi.NULL:
            raise PortAudioError(f"Pa_GetDeviceInfo: no device {index}")
        return Device(
            index=index,
            name=_str(info.name),
            hostapi=int(info.hostApi),
            max_input_channels=int(info.maxInputChannels),
            max_output_channels=int(info.maxOutputChannels),
            low_output_latency=float(info.defaultLowOutputLatency),
            high_output_latency=float(info.defaultHighOutputLatency),
            default_sample_rate=float(info.defaultSampleRate),
        )

    def devices(self) -> list[Device]:
        self._need_live()
        count = self._lib.Pa_GetDeviceCount()
        _check(self._lib, count, "Pa_GetDeviceCount")
        return [self.device(i) for i in range(count)]

    def default_output_device(self) -> int | None:
        self._need_live()
        index = int(self._lib.Pa_GetDefaultOutputDevice())
        return None if index == PA_NO_DEVICE else index

    # --------------------------------------------------------------- streams
    def open_output(
        self,
        device: int,
        *,
        channels: int,
        sample_rate: float,
        block_size: int,
        callback: Any,
        userdata: Any,
        latency: float | None = None,
    ) -> OutputStream:
        """Open (not start) a float32 interleaved output stream calling ``callback``.

        ``callback`` is a C function pointer of PortAudio's callback type (any
        cffi instance's); ``userdata`` a pointer kept alive by the caller.
        ``latency`` defaults to the device's low output latency.
        """
        self._need_live()
        if channels < 1:
            raise ValueError(f"channels must be ≥ 1, got {channels}")
        if not sample_rate > 0:
            raise ValueError(f"sample_rate must be > 0, got {sample_rate}")
        if block_size < 0:
            raise ValueError(f"block_size must be ≥ 0 (0: PortAudio chooses), got {block_size}")
        if callback is None or callback == ffi.NULL:
            raise ValueError("a stream needs a C callback")
        dev = self.device(device)
        params = ffi.new("PaStreamParameters *")
        params.device = device
        params.channelCount = channels
        params.sampleFormat = PA_FLOAT32
        params.suggestedLatency = dev.low_output_latency if latency is None else latency
        params.hostApiSpecificStreamInfo = ffi.NULL
        handle = ffi.new("PaStream **")
        cb = ffi.cast("PaStreamCallback *", callback)
        ud = ffi.cast("void *", userdata)
        err = self._lib.Pa_OpenStream(
            handle, ffi.NULL, params, float(sample_rate), block_size, PA_NO_FLAG, cb, ud
        )
        _check(self._lib, err, "Pa_OpenStream")
        return OutputStream(self, handle[0], keep=(callback, userdata))


class OutputStream:
    """An open PortAudio output stream (callback mode)."""

    def __init__(self, pa: PortAudio, handle: Any, keep: tuple[Any, ...]) -> None:
        self._pa = pa
        self._lib = pa._lib
        self._handle: Any = handle
        self._keep = keep  # the callback's pointers must outlive the stream
        self.active = False

    def _h(self) -> Any:
        if self._handle is None:
            raise PortAudioError("the stream is closed")
        return self._handle

    def start(self) -> None:
        _check(self._lib, self._lib.Pa_StartStream(self._h()), "Pa_StartStream")
        self.active = True

    def stop(self) -> None:
        """Stop after the buffers already handed to the device have played."""
        if self.active:
            self.active = False
            _check(self._lib, self._lib.Pa_StopStream(self._h()), "Pa_StopStream")

    def abort(self) -> None:
        """Stop at once, dropping what is buffered."""
        if self.active:
            self.active = False
            _check(self._lib, self._lib.Pa_AbortStream(self._h()), "Pa_AbortStream")

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            self.active = False
            _check(self._lib, self._lib.Pa_CloseStream(handle), "Pa_CloseStream")

    @property
    def closed(self) -> bool:
        return self._handle is None

    @property
    def output_latency(self) -> float:
        """Seconds from the callback's output to the DAC, as PortAudio reports it."""
        info = self._lib.Pa_GetStreamInfo(self._h())
        return 0.0 if info == ffi.NULL else float(info.outputLatency)
