"""Live gestures: motion for speech as it arrives, with a fixed lookahead.

:class:`GestureStream` takes audio in chunks of any size (``push``) and returns the motion frames
that became final (SMPL-X axis-angle of the bundle's joints at the model's frame rate); ``flush``
ends the stream. The motion for time t is emitted once audio up to ``t + lookahead`` has
arrived:

* **codes**: a token (4 motion frames) is committed once the audio up to its end plus the
  lookahead is in. The classifier runs on a window of ``L`` frames that starts ``S`` frames (the
  seed) before the first uncommitted token, seeded by the last committed tokens — the same
  continuation as offline generation (:func:`~.generate.generate_motion`), sliding by what was
  committed; audio the window reaches past what has arrived is silence to it.
* **frames**: the committed tokens are decoded with :func:`~.generate.decoder_reach` tokens of
  left context; on the right, the last committed token stands in for the tokens not yet known
  (the decoder sees more of the future offline, so the newest frames differ from offline ones:
  ``benchmarks/stream.py`` measures by how much). The next decode, knowing more, places the
  last returned frame elsewhere; the new frames start from where the motion is and ease into
  the new decode with the offset fading by :data:`EASE` a frame, so no joint jumps at a chunk boundary.

Words, when given, must be timed in advance (a live recogniser is not wired in); the default is
none. A model trained with ``model.lookahead`` (eggesture.models.classifier) never looks further
ahead than that, so a token it commits does not depend on audio not yet heard (it was trained
that way); an offline model sees the audio it has not heard yet as silence. The stream's lookahead defaults to the model's (else
:data:`DEFAULT_LOOKAHEAD`) and may not be shorter.

Python::

    stream = GestureStream(load_bundle("RUN"), lookahead=0.5)
    for chunk in microphone():                    # float32 16 kHz mono, any length
        frames = stream.push(chunk)               # (n, J, 3) axis-angle, maybe n = 0
    frames = stream.flush()
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..bundle import Bundle
from ..data.motion import sixd_to_axis_angle
from ..data.transcript import Word, frame_words
from ..data.wav import AUDIO_SR
from ..models.vqvae import DOWNSAMPLE
from .generate import Generated, decoder_reach, first_seed, predict_window

#: Audio is dropped from a stream's buffer in blocks of this many samples: 0.2 s, which is a
#: whole number of motion frames at 15 fps and of the features' 10 ms analysis steps.
TRIM = 3200
TRIM_FRAMES = 3
#: Seconds of audio kept before the current window (the features' analysis context).
KEEP_SECONDS = 2.0
#: The stream's lookahead (s) for a model trained without one.
DEFAULT_LOOKAHEAD = 0.5
#: Per frame, the share of the offset between the motion already returned and the newest
#: decode that is kept: a chunk's new motion eases in from the last frame returned.
EASE = 0.9


class GestureStream:
    """Streaming generation (see the module docstring). ``lookahead`` in seconds (≥ 0; None:
    :func:`stream_lookahead`); ``words`` timed in advance, or None; ``seed_motion (S', D)``
    (normalised 6D) starts the stream from real motion instead of the mean pose (evaluation, as
    offline)."""

    def __init__(self, bundle: Bundle, lookahead: float | None = None, *,
                 words: list[Word] | None = None, posthoc_tau: float | None = None,
                 seed_motion: np.ndarray | None = None):
        lookahead = stream_lookahead(bundle, lookahead)
        if abs(TRIM / AUDIO_SR * bundle.fps - TRIM_FRAMES) > 1e-9:
            raise ValueError(f"streaming needs a model at 15 fps (this one: {bundle.fps:g})")
        self.bundle, self.lookahead = bundle, float(lookahead)
        self.fps = bundle.fps
        self.length, seed_frames = bundle.cfg.data.length, bundle.cfg.data.seed_frames
        self.seed_tokens = seed_frames // DOWNSAMPLE
        self.reach = decoder_reach(bundle.vqvae)
        # the frame word ids, once: words come timed in advance; past the last one, none
        last = int(np.ceil(max((w.end for w in words or []), default=0.0) * self.fps)) + 1
        self.word_ids = np.asarray(bundle.word_ids(frame_words(list(words or []), last, self.fps)),
                                   dtype=np.int64)
        self.posthoc_tau = bundle.cfg.model.posthoc_tau if posthoc_tau is None else posthoc_tau
        self.codes = bundle.vqvae.quantizer.codes().detach()
        self.audio = np.zeros(0, np.float32)
        self.dropped = 0  # audio blocks (TRIM samples each) dropped from the front of self.audio
        # The stream starts at the mean pose's codes, as offline generation does (its first
        # S/4 tokens): every later window is seeded by the S/4 tokens before it.
        self.tokens: list[int] = first_seed(bundle, seed_motion).tolist()
        self.emitted = 0  # frames returned so far
        self.last: np.ndarray | None = None  # the last frame returned (normalised 6D)
        self.ahead: list[int] = []  # tokens predicted past the horizon, not yet committed
        self.done = False

    @property
    def seconds(self) -> float:
        """Audio received so far, in seconds."""
        return (self.dropped * TRIM + self.audio.size) / AUDIO_SR

    def _trim(self, start_frame: int) -> None:
        """Drop audio older than :data:`KEEP_SECONDS` before the window that starts at motion
        frame ``start_frame``, in whole blocks of :data:`TRIM` samples (whole motion frames on
        the features' 100 Hz grid), so a long stream holds a bounded buffer."""
        keep_from = int(start_frame / self.fps * AUDIO_SR - KEEP_SECONDS * AUDIO_SR)
        blocks = keep_from // TRIM - self.dropped
        if blocks > 0:
            self.audio = self.audio[blocks * TRIM:].copy()
            self.dropped += blocks

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add audio ``(n,)`` (16 kHz mono float); the newly final frames ``(m, J, 3)``."""
        if self.done:
            raise RuntimeError("the stream was flushed; start a new GestureStream")
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.audio = np.concatenate([self.audio, samples])
        return self._advance(self.seconds - self.lookahead)

    def flush(self) -> np.ndarray:
        """End of speech: the remaining frames, up to ``round(duration · fps)`` in all."""
        frames = self._advance(self.seconds, final=True)
        self.done = True
        return frames

    @torch.no_grad()
    def _advance(self, horizon: float, final: bool = False) -> np.ndarray:
        # frame k shows time k/fps: it may go once the audio reaches k/fps + lookahead
        if final:
            n_frames = int(np.floor(horizon * self.fps + 0.5))
        else:
            n_frames = int(np.floor(horizon * self.fps + 1e-9)) + 1 if horizon >= 0 else 0
        want = int(np.ceil(n_frames / DOWNSAMPLE))  # tokens covering those frames
        if final:
            self.audio = np.concatenate([self.audio, np.zeros(AUDIO_SR // 10, np.float32)])
        # Predict while tokens are due, and at least once while nothing is predicted past the
        # horizon: the decoder's view of the future is those predictions (see _decode).
        while len(self.tokens) < want or not self.ahead:
            first = len(self.tokens)  # the first uncommitted token
            start = (first - self.seed_tokens) * DOWNSAMPLE  # its window's first frame
            prev = torch.as_tensor(self.tokens[-self.seed_tokens:])
            self._trim(start)
            shift = self.dropped * TRIM_FRAMES  # frames the buffer's first sample is late by
            idx = predict_window(self.bundle, self.audio, start - shift, self.word_ids[shift:], prev,
                                 codes=self.codes, posthoc_tau=self.posthoc_tau)
            new = idx[self.seed_tokens:].tolist()
            take = max(0, want - first)
            self.tokens += new[:take]
            self.ahead = new[take:]  # predicted past the horizon: not committed
            if take == 0:
                break
        return self._decode(n_frames)

    def _decode(self, n_frames: int) -> np.ndarray:
        if n_frames <= self.emitted:
            return np.zeros((0, len(self.bundle.joint_names), 3), np.float32)
        vq = self.bundle.vqvae
        t0 = self.emitted // DOWNSAMPLE  # the token of the first frame to emit
        lo = max(0, t0 - self.reach)
        # the future the decoder reaches into: the last window's predictions past the horizon,
        # then the last token held
        future = (self.ahead + [self.tokens[-1]] * self.reach)[: self.reach]
        context = self.tokens[lo:] + future
        motion = vq.decode(torch.as_tensor(context)[None])[0].float().cpu().numpy()  # (4n, D)
        a = self.emitted - lo * DOWNSAMPLE
        out = motion[a:a + n_frames - self.emitted].copy()
        if self.last is not None:
            # The frames already out were decoded before the tokens after them were known;
            # today's decode of the last of them differs. Start from where the motion is and
            # ease into today's decode, so no joint jumps at the boundary.
            delta = motion[a - 1] - self.last  # (D,)
            w = EASE ** np.arange(1, len(out) + 1)[:, None]  # (n, 1): the offset fades by frame
            out -= w * delta
        self.last = out[-1].copy()
        self.emitted = n_frames
        six = self.bundle.norm.denormalize(self.bundle.compensate(out)).reshape(len(out), -1, 6)
        return sixd_to_axis_angle(six).astype(np.float32)


def stream_lookahead(bundle: Bundle, lookahead: float | None = None) -> float:
    """The lookahead (s) a stream of ``bundle`` runs at: ``lookahead``, or the model's own
    (``model.lookahead``), or :data:`DEFAULT_LOOKAHEAD`; never less than the model's."""
    trained = bundle.cfg.model.lookahead
    if lookahead is None:
        return DEFAULT_LOOKAHEAD if trained is None else float(trained)
    if lookahead < 0:
        raise ValueError(f"lookahead must be ≥ 0 s, got {lookahead}")
    if trained is not None and lookahead < trained - 1e-9:
        raise ValueError(f"this model was trained to look {trained:g} s ahead: stream with a "
                         f"lookahead of at least that, not {lookahead:g} s")
    return float(lookahead)


@dataclass
class StreamRun:
    """A recording streamed chunk by chunk: the motion (offline layout), and per chunk the
    compute time (s) and the latency of each frame it emitted (s, on the audio's clock: the
    chunk's arrival plus the compute, minus the frame's time)."""

    generated: Generated
    compute: np.ndarray  # (n_chunks,)
    latency: np.ndarray  # (n_frames,)
    chunk_of_frame: np.ndarray  # (n_frames,) the chunk that emitted each frame
    lookahead: float  # seconds, as the stream ran

    def summary(self, chunk: float) -> str:
        c, lat = self.compute * 1000, self.latency
        return (f"{len(c)} chunks of {chunk:g} s, lookahead {self.lookahead:g} s: compute per chunk "
                f"p50 {np.median(c):.1f} ms, p99 {np.percentile(c, 99):.1f} ms; frame latency "
                f"p50 {np.median(lat):.2f} s, max {lat.max():.2f} s; "
                f"{self.generated.duration / max(self.compute.sum(), 1e-9):.0f}× real time")


def stream_wave(bundle: Bundle, wave: np.ndarray, *, chunk: float = 0.1,
                lookahead: float | None = None, words: list[Word] | None = None,
                seed_motion: np.ndarray | None = None) -> StreamRun:
    """Stream ``wave (N,)`` (16 kHz) through a :class:`GestureStream` in chunks of ``chunk``
    seconds, as it would arrive live (the audio's clock, not the wall clock)."""
    if chunk <= 0:
        raise ValueError(f"chunk must be > 0 s, got {chunk}")
    stream = GestureStream(bundle, lookahead, words=words, seed_motion=seed_motion)
    n = max(1, int(round(chunk * AUDIO_SR)))
    starts = range(0, wave.size, n)
    frames, compute, latency, owner, emitted = [], [], [], [], 0
    for k in range(len(starts) + 1):  # every chunk, then the end of speech
        t = time.perf_counter()
        if k < len(starts):
            out = stream.push(wave[starts[k]:starts[k] + n])
            heard = min(wave.size, starts[k] + n)
        else:
            out, heard = stream.flush(), wave.size
        compute.append(time.perf_counter() - t)
        arrival = heard / AUDIO_SR + compute[-1]
        latency += [arrival - (emitted + i) / stream.fps for i in range(len(out))]
        owner += [k] * len(out)
        frames.append(out)
        emitted += len(out)
    rotvec = np.concatenate(frames)
    gen = Generated(rotvec=rotvec, joint_names=bundle.joint_names, fps=stream.fps,
                    duration=wave.size / AUDIO_SR, indices=np.asarray(stream.tokens),
                    words=list(words or []))
    return StreamRun(gen, np.asarray(compute), np.asarray(latency), np.asarray(owner),
                     stream.lookahead)
