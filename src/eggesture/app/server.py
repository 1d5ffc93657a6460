"""``eggesture app``: a local web page — speech in, a gesturing body in the browser.

A small ASGI app (Starlette, served by uvicorn; the choice against Gradio is measured in
docs/decisions.md) around the same recipe functions as ``eggesture generate``:

* ``GET /`` the page (``web/index.html``, ``web/app.js``); ``GET /vendor/three/…`` three.js from
  the npm package fetched by ``npm ci --prefix src/eggesture/app/web`` (nothing from a CDN);
* ``GET /api/models`` the loaded models (each loaded once, at start);
* ``POST /api/generate`` (multipart: ``audio``, optional ``text`` or ``transcript`` file, optional
  ``compare=1``) → JSON with the result's id, duration, words and files;
* ``GET /api/result/{id}/{file}`` ``motion.npz``, ``motion.bvh``, ``motion.glb`` (``compare.glb``
  for the second model) and ``preview.mp4`` (rendered on first request).

Serving rules: uploads larger than ``max_upload_mb`` or longer than ``max_seconds`` are refused
with one line; an upload's name is never used as a path (only its suffix, checked against the
audio formats we read); each request works in a temporary folder removed before it answers;
generation runs one request at a time in a worker thread (the others wait their turn), and only
the last :data:`KEEP` results are kept, in memory.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import tempfile
import threading
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..bundle import Bundle
from ..data.wav import AUDIO_SR, AUDIO_SUFFIXES, audio_duration
from ..errors import DataError, EggestureError, EggestureWarning
from ..export.gltf import write_smplx_glb
from ..recipes.generate import Generated, generate_motion, load_speech, save_outputs
from ..recipes.stream import GestureStream

WEB = Path(__file__).resolve().parent / "web"
THREE = WEB / "node_modules" / "three"
#: Results kept in memory (the oldest is dropped first).
KEEP = 8
#: The longest lookahead (s) the live mode's ``/ws/live?lookahead=S`` may ask for; without
#: one, the stream's default (the model's ``model.lookahead``, else 0.5 s).
MAX_LIVE_LOOKAHEAD = 2.0
#: Transcript suffixes accepted with an upload.
TRANSCRIPT_SUFFIXES = (".textgrid", ".json", ".txt")
MEDIA = {".npz": "application/octet-stream", ".bvh": "text/plain", ".glb": "model/gltf-binary",
         ".mp4": "video/mp4"}


@dataclass
class Limits:
    """What one request may send: upload size (MB, audio and transcript together) and speech
    duration (seconds)."""

    max_upload_mb: float = 50.0
    max_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.max_upload_mb <= 0:
            raise ValueError(f"max_upload_mb must be > 0, got {self.max_upload_mb}")
        if self.max_seconds <= 0:
            raise ValueError(f"max_seconds must be > 0, got {self.max_seconds}")


@dataclass
class Result:
    """One generation: its files (bytes, by name), and what the page shows."""

    files: dict[str, bytes]
    info: dict
    audio: tuple[bytes, str]  # the speech and its suffix, for preview.mp4
    generated: Generated  # the first model's motion, for preview.mp4
    model: str
    lock: threading.Lock = field(default_factory=threading.Lock)


class App:
    """The loaded models, the results and the limits behind the routes."""

    def __init__(self, models: dict[str, Bundle], limits: Limits | None = None):
        if not models:
            raise ValueError("the app needs at least one model")
        self.models = models
        self.limits = limits or Limits()
        self.results: collections.OrderedDict[str, Result] = collections.OrderedDict()
        self.turn = asyncio.Semaphore(1)  # one generation at a time: the CPU is the limit

    # --- one generation (in a worker thread) ---------------------------------------------
    def generate(self, audio: bytes, suffix: str, text: str | None,
                 transcript: tuple[bytes, str] | None, compare: bool) -> Result:
        with tempfile.TemporaryDirectory(prefix="eggesture-app-") as tmp:
            tmp = Path(tmp)
            wav = tmp / f"speech{suffix}"
            wav.write_bytes(audio)
            text_path = None
            if transcript is not None:
                text_path = tmp / f"transcript{transcript[1]}"
                text_path.write_bytes(transcript[0])
            elif text and text.strip():
                text_path = tmp / "transcript.txt"
                text_path.write_text(text, encoding="utf-8")
            try:
                seconds = audio_duration(wav)  # from the header: before any decoding or alignment
                if seconds > self.limits.max_seconds:
                    raise DataError(None, f"the speech lasts {seconds:.0f} s; this server takes "
                                          f"at most {self.limits.max_seconds:.0f} s (--max-seconds)")
                with warnings.catch_warnings(record=True) as said:  # one request at a time
                    warnings.simplefilter("always", EggestureWarning)
                    wave, timed = load_speech(wav, text_path)
            except EggestureError as e:  # name the upload, not our temporary file
                raise DataError(None, e.problem) from None
            seconds = wave.size / AUDIO_SR
            notes = [str(w.message).replace(str(tmp) + "/", "") for w in said
                     if issubclass(w.category, EggestureWarning)]
            names = list(self.models)[:2 if compare and len(self.models) > 1 else 1]
            files: dict[str, bytes] = {}
            for k, name in enumerate(names):
                bundle = self.models[name]
                gen = generate_motion(bundle, wave, timed.words)
                stem = "motion" if k == 0 else "compare"
                targets = {"out": None, "glb": tmp / f"{stem}.glb"}
                if k == 0:
                    targets.update(out=tmp / "motion.npz", bvh=tmp / "motion.bvh")
                save_outputs(gen, bundle, fps=30, **targets)
                files.update({p.name: p.read_bytes() for p in targets.values() if p})
                if k == 0:
                    first = gen
            known = self.models[names[0]].known_words([w.text for w in timed.words])
            info = {"duration": round(seconds, 3), "fps": 30, "models": names,
                    "words": [{"word": w.text, "start": w.start, "end": w.end}
                              for w in timed.words],
                    "words_how": timed.how, "words_known": known, "frames": len(first.rotvec),
                    "warnings": notes}
            return Result(files, info, (audio, suffix), first, names[0])

    @functools.cached_property
    def rest_glb(self) -> bytes:
        """The body at rest (two frames), which the live mode poses frame by frame."""
        with tempfile.TemporaryDirectory(prefix="eggesture-app-") as tmp:
            path = Path(tmp) / "rest.glb"
            write_smplx_glb(path, np.zeros((2, 165), np.float32), 30, duration=2 / 30)
            return path.read_bytes()

    async def live(self, socket: WebSocket) -> None:
        """Live mode: float32 16 kHz samples in (binary messages), motion frames out (JSON
        ``{"first": index, "frames": [[axis-angle × joints], …], "joints": […]}``); the text
        message ``end`` flushes and closes."""
        await socket.accept()
        bundle = next(iter(self.models.values()))
        try:  # never shorter than the model was trained to look ahead
            asked = float(socket.query_params["lookahead"])
            lookahead = min(MAX_LIVE_LOOKAHEAD, max(bundle.cfg.model.lookahead or 0.0, asked))
        except (KeyError, ValueError):
            lookahead = None  # the model's, else the stream's default
        stream = GestureStream(bundle, lookahead)
        sent = 0
        try:
            while True:
                message = await socket.receive()
                if message.get("bytes") is not None:
                    samples = np.frombuffer(message["bytes"], dtype="<f4")
                    frames = await run_in_threadpool(stream.push, samples)
                elif message["type"] == "websocket.disconnect":
                    return
                elif message.get("text") == "end":
                    frames = stream.flush()
                else:
                    continue
                if len(frames):
                    await socket.send_json({"first": sent, "fps": stream.fps,
                                            "joints": bundle.joint_names,
                                            "frames": np.round(frames.reshape(len(frames), -1),
                                                               5).tolist()})
                    sent += len(frames)
                if stream.done:
                    await socket.close()
                    return
        except WebSocketDisconnect:
            return

    def keep(self, result: Result) -> str:
        rid = uuid.uuid4().hex
        self.results[rid] = result
        while len(self.results) > KEEP:
            self.results.popitem(last=False)
        return rid

    def video(self, result: Result) -> bytes:
        """``preview.mp4`` of a result: the stick figure with the speech, rendered once."""
        with result.lock:
            if "preview.mp4" not in result.files:
                with tempfile.TemporaryDirectory(prefix="eggesture-app-") as tmp:
                    wav = Path(tmp) / f"speech{result.audio[1]}"
                    wav.write_bytes(result.audio[0])
                    mp4 = Path(tmp) / "preview.mp4"
                    save_outputs(result.generated, self.models[result.model], out=None,
                                 video=mp4, audio_path=wav)
                    result.files["preview.mp4"] = mp4.read_bytes()
            return result.files["preview.mp4"]


class _Refused(Exception):
    """An upload refused before any work: its one-line reason and the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


async def _upload(request: Request, limits: Limits):
    """The form of a generation request, checked: ``(audio bytes, its suffix, transcript
    (bytes, suffix) or None, typed text or None, compare)``; :class:`_Refused` otherwise."""
    limit = int(limits.max_upload_mb * 2**20)
    too_big = _Refused(f"the upload is larger than {limits.max_upload_mb:g} MB "
                       "(--max-upload-mb)", 413)
    if int(request.headers.get("content-length") or 0) > limit + 2**16:
        raise too_big
    try:
        form = await request.form(max_files=2, max_fields=8, max_part_size=limit)
    except Exception as e:  # the multipart parser: a malformed or oversized part
        raise _Refused(f"could not read the upload ({e})") from None
    upload = form.get("audio")
    if upload is None or not hasattr(upload, "read"):
        raise _Refused("no audio file in the request (field 'audio')")
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        raise _Refused(f"audio must be one of {', '.join(AUDIO_SUFFIXES)}; got "
                       f"{suffix or 'a file without a suffix'}")
    audio = await upload.read()
    transcript = None
    tfile = form.get("transcript")
    if tfile is not None and hasattr(tfile, "read") and tfile.filename:
        tsuffix = Path(tfile.filename).suffix.lower()
        if tsuffix not in TRANSCRIPT_SUFFIXES:
            raise _Refused("a transcript must be a .TextGrid, .json or .txt file")
        transcript = (await tfile.read(), ".TextGrid" if tsuffix == ".textgrid" else tsuffix)
    if len(audio) + (len(transcript[0]) if transcript else 0) > limit:
        raise too_big
    text = form.get("text")
    return (audio, suffix, transcript, text if isinstance(text, str) else None,
            form.get("compare") in ("1", "true", "on"))


def model_name(path: Path) -> str:
    """How the page names a model: its run folder (``RUN`` for ``RUN/bundle``), or the packaged
    model."""
    from ..pretrained import DEFAULT

    path = path.resolve()
    if path == DEFAULT:
        return "packaged model (synthetic speakers)"
    return path.parent.name if path.name == "bundle" else path.name


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status)


def build_app(app: App) -> Starlette:
    """The ASGI application serving ``app``."""

    async def index(request: Request) -> Response:
        return FileResponse(WEB / "index.html", media_type="text/html")

    async def web_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("app.js", "style.css"):
            return _error("not found", 404)
        return FileResponse(WEB / name)

    async def vendor(request: Request) -> Response:
        rel = request.path_params["path"]
        path = (THREE / rel).resolve()
        if not path.is_file() or THREE.resolve() not in path.parents or path.suffix != ".js":
            return _error(f"three.js file {rel} not found: run `npm ci --prefix {WEB}` once "
                          "(docs/usage.md, 'In the browser')", 404)
        return FileResponse(path, media_type="text/javascript")

    async def models(request: Request) -> Response:
        return JSONResponse([{"name": n, "vocabulary": len(b.vocab), "joints": len(b.joint_names)}
                             for n, b in app.models.items()])

    async def generate(request: Request) -> Response:
        try:
            audio, suffix, transcript, text, compare = await _upload(request, app.limits)
        except _Refused as e:
            return _error(str(e), e.status)
        async with app.turn:
            try:
                result = await run_in_threadpool(app.generate, audio, suffix, text, transcript,
                                                 compare)
            except EggestureError as e:
                return _error(e.problem)
        rid = app.keep(result)
        files = sorted(result.files) + ["preview.mp4"]
        return JSONResponse({"id": rid, **result.info,
                             "files": {f: f"/api/result/{rid}/{f}" for f in files}})

    async def result_file(request: Request) -> Response:
        rid, name = request.path_params["rid"], request.path_params["name"]
        result = app.results.get(rid)
        if result is None:
            return _error("no such result (the server keeps the last "
                          f"{KEEP}; generate again)", 404)
        if name == "preview.mp4":
            async with app.turn:
                data = await run_in_threadpool(app.video, result)
        elif name in result.files:
            data = result.files[name]
        else:
            return _error("no such file", 404)
        return Response(data, media_type=MEDIA[Path(name).suffix],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def rest(request: Request) -> Response:
        return Response(app.rest_glb, media_type=MEDIA[".glb"])

    return Starlette(routes=[
        Route("/", index), Route("/web/{name}", web_file),
        Route("/vendor/three/{path:path}", vendor),
        Route("/api/models", models), Route("/api/generate", generate, methods=["POST"]),
        Route("/api/result/{rid}/{name}", result_file), Route("/api/rest.glb", rest),
        WebSocketRoute("/ws/live", app.live),
    ])
