"""Speech in, gestures out: windowed generation of any length (DESIGN §3 "Long audio").

Audio of any length is cut into model windows of ``L`` frames that overlap by the ``S`` seed
frames. Window 0 is seeded by the codes of the mean pose (or of ground-truth motion, as the
paper does in evaluation); window i+1 is seeded by the last ``S/4`` codes window i predicted,
so its new codes continue the previous ones and all windows together give one code sequence.
That sequence is decoded as a whole — in chunks with the convolutional decoder's full context,
which equals decoding it at once — so window boundaries leave no seam in the motion. The last,
partial window is padded with silence and cut — never dropped. Audio features are computed per
window from a slice of the audio, so memory does not grow with the audio's length beyond the
waveform and the output themselves.

Python API::

    >>> from eggesture import generate
    >>> from eggesture.recipes.generate import to_smplx_poses
    >>> out = generate("runs/demo/eggesture", "speech.wav")        # doctest: +SKIP
    >>> out.rotvec.shape                                # (T_model, J, 3) at the model's 15 fps
    >>> to_smplx_poses(out, fps=30).shape               # (round(duration·30), 165), BEAT2 layout
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..bundle import Bundle, load_bundle
from ..data.bvh import parse_bvh
from ..data.motion import SMPLX_PARENTS, resample_rotations, sixd_to_axis_angle
from ..data.poses import is_smplx, n_frames_for, smplx_poses
from ..data.skeleton import smplx_positions
from ..data.transcript import Word, frame_words
from ..data.wav import AUDIO_SR, AUDIO_SUFFIXES, is_audio_file, load_audio
from ..data.word_timing import PlainText, TimedWords, check_words_fit, timed_words
from ..errors import DataError, EggestureError
from ..export.bvh import skeleton_motion, write_skeleton_bvh, write_smplx_bvh
from ..export.gltf import write_smplx_glb
from ..export.npz import write_beat2_npz, write_rotations_npz
from ..export.render import root_relative
from ..io import atomic_path
from ..models.classifier import adjust_logits
from ..models.vqvae import DOWNSAMPLE, MotionVQVAE


@dataclass
class Generated:
    """Generated motion of one audio clip."""

    rotvec: np.ndarray
    """``(T_model, J, 3)`` axis-angle of the bundle's joints at the model's frame rate."""
    joint_names: list[str]
    fps: float
    """Model frame rate (15 for the paper's settings)."""
    duration: float
    """Audio duration in seconds."""
    indices: np.ndarray
    """``(T_model / 4,)`` code indices, in order (overlaps counted once)."""
    words: list[Word] = field(default_factory=list)


def _token_window(bundle: Bundle) -> tuple[int, int]:
    d = bundle.cfg.data
    return d.length, d.seed_frames


def decoder_reach(vqvae: MotionVQVAE) -> int:
    """Tokens on each side of a token that can change its decoded frames (receptive radius).

    The decoder is a stack of 1D convolutions and ×2 nearest upsamplings (no normalisation over
    time, no attention), so this is the sum of every convolution's half-width measured in tokens,
    rounded up, plus one token for the upsampling's rounding.
    """
    rate, reach = 1, 0.0
    for m in vqvae.decoder.modules():  # registration order = execution order (Sequential stacks)
        if isinstance(m, nn.Conv1d):
            reach += m.dilation[0] * (m.kernel_size[0] - 1) / 2 / rate
        elif isinstance(m, nn.Upsample):
            rate *= int(m.scale_factor)
    return int(np.ceil(reach)) + 1


@torch.no_grad()
def decode_indices(vqvae: MotionVQVAE, indices: np.ndarray | torch.Tensor, *,
                   chunk: int = 512) -> np.ndarray:
    """Normalised motion ``(4·N, D)`` of a code sequence ``indices (N,)`` of any length.

    Decoded in chunks of ``chunk`` tokens with :func:`decoder_reach` tokens of context on each
    side, which gives the frames a decode of the whole sequence at once would give (to float
    rounding) while memory stays that of one chunk.
    """
    idx = torch.as_tensor(np.asarray(indices), dtype=torch.long).reshape(-1)
    n, margin = idx.numel(), decoder_reach(vqvae)
    device = next(vqvae.parameters()).device
    out = np.zeros((n * DOWNSAMPLE, vqvae.motion_dim), np.float32)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        lo, hi = max(0, a - margin), min(n, b + margin)
        motion = vqvae.decode(idx[None, lo:hi].to(device))[0].float().cpu().numpy()  # (4(hi-lo), D)
        out[a * DOWNSAMPLE:b * DOWNSAMPLE] = motion[(a - lo) * DOWNSAMPLE:(b - lo) * DOWNSAMPLE]
    return out


@torch.no_grad()
def first_seed(bundle: Bundle, seed_motion: np.ndarray | None = None) -> torch.Tensor:
    """The seed tokens ``(S/4,)`` of the first window: the codes of the mean pose, or of
    ``seed_motion (S', D)`` (normalised 6D) held at its last frame."""
    length, seed_frames = _token_window(bundle)
    m = np.zeros((length, int(bundle.meta["motion_dim"])), np.float32)  # the mean pose, normalised
    if seed_motion is not None and len(seed_motion):
        m[: min(length, len(seed_motion))] = seed_motion[:length]
        m[len(seed_motion):] = seed_motion[-1]
    device = next(bundle.vqvae.parameters()).device
    return bundle.vqvae.encode(torch.from_numpy(m)[None].to(device))[0, :seed_frames // DOWNSAMPLE]


@torch.no_grad()
def predict_window(bundle: Bundle, wave: np.ndarray, start: int, word_ids: np.ndarray,
                   prev_tokens: torch.Tensor, *, codes: torch.Tensor, posthoc_tau: float,
                   temperature: float = 0.0, generator: torch.Generator | None = None
                   ) -> torch.Tensor:
    """The codes ``(L/4,)`` of the window of motion frames ``[start, start + L)``: the
    classifier on that stretch of ``wave`` (past its end: silence) and of the frame word ids
    ``word_ids`` (past their end: none), seeded by ``prev_tokens (S/4,)``, which it returns
    unchanged in the first ``S/4`` places."""
    length = bundle.cfg.data.length
    vq, clf = bundle.vqvae, bundle.classifier
    device = next(clf.parameters()).device
    feats = bundle.audio_features(wave, start, length, bundle.fps)  # (4L, F)
    w = np.zeros(length, np.int64)
    here = word_ids[start:start + length]
    w[:len(here)] = here
    logits = clf(torch.from_numpy(feats)[None].to(device), torch.from_numpy(w)[None].to(device),
                 prev_tokens[None], codes=codes)[0]  # (L/4, K)
    logits = adjust_logits(logits, vq.quantizer.usage_probs, -posthoc_tau)  # argmax f − τ′·log π
    if temperature > 0:
        probs = torch.softmax(logits.float().cpu() / temperature, -1)
        idx = torch.multinomial(probs, 1, generator=generator)[:, 0].to(device)
    else:
        idx = logits.argmax(-1)
    idx[:len(prev_tokens)] = prev_tokens  # the seed is given, not predicted
    return idx


@torch.no_grad()
def generate_motion(
    bundle: Bundle,
    wave: np.ndarray,
    words: list[Word] | None = None,
    *,
    seed: int = 0,
    temperature: float = 0.0,
    seed_motion: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    posthoc_tau: float | None = None,
) -> Generated:
    """Generate motion for ``wave (N,)`` (16 kHz mono) and optional timed ``words``.

    ``temperature`` 0 takes the most likely code at each token (deterministic); above 0 codes
    are sampled with a generator seeded by ``seed``. ``seed_motion (S', D)`` (normalised 6D,
    S' ≥ 1) seeds the first window with real motion instead of the mean pose.
    ``posthoc_tau`` τ′ ≥ 0 chooses codes by ``f − τ′·log π`` (post-hoc logit adjustment, π the
    VQ-VAE's hard code usage); None takes the bundle's ``model.posthoc_tau``.
    """
    length, seed_frames = _token_window(bundle)
    fps = bundle.fps
    duration = wave.size / AUDIO_SR
    n_total = max(1, int(np.floor(duration * fps + 0.5)))
    seed_tokens = seed_frames // DOWNSAMPLE
    step = length - seed_frames
    word_ids = np.asarray(bundle.word_ids(frame_words(words or [], n_total, fps)), dtype=np.int64)
    gen = torch.Generator().manual_seed(seed)
    vq = bundle.vqvae.to(device)
    bundle.classifier.to(device)
    prev_tokens = first_seed(bundle, seed_motion)
    codes = vq.quantizer.codes().detach()  # the tied head's targets (ignored otherwise)
    posthoc_tau = bundle.cfg.model.posthoc_tau if posthoc_tau is None else posthoc_tau
    if posthoc_tau < 0:
        raise ValueError(f"posthoc_tau must be ≥ 0, got {posthoc_tau}")

    # Window k covers frames [k·step, k·step + L); its first S frames are the last S of window
    # k−1, given as seed tokens. Its new tokens continue the previous window's, so the token
    # stream is one sequence that the convolutional decoder decodes as a whole (no seams).
    tokens: list[np.ndarray] = []
    start = 0
    while True:
        idx = predict_window(bundle, wave, start, word_ids, prev_tokens, codes=codes,
                             posthoc_tau=posthoc_tau, temperature=temperature, generator=gen)
        tokens.append(idx[seed_tokens if start else 0:].cpu().numpy())
        if start + length >= n_total:
            break
        prev_tokens = idx[length // DOWNSAMPLE - seed_tokens:]
        start += step
    n_tok = int(np.ceil(n_total / DOWNSAMPLE))
    stream = np.concatenate(tokens)  # ≥ n_tok: the last window runs past the audio's end
    out = bundle.compensate(decode_indices(vq, stream)[:n_total])  # (T, D) normalised
    six = bundle.norm.denormalize(out).reshape(n_total, -1, 6)
    return Generated(rotvec=sixd_to_axis_angle(six).astype(np.float32),
                     joint_names=bundle.joint_names, fps=fps, duration=duration,
                     indices=stream[:n_tok], words=list(words or []))


def check_duration(duration: float, fps: float, path: str | Path | None) -> None:
    """Reject audio too short for one output frame at ``fps`` (``round(duration·fps) < 1``)."""
    if n_frames_for(duration, fps) < 1:
        raise DataError(path, f"audio is too short ({duration * 1000:.0f} ms) for one frame at "
                              f"{fps:g} fps")


def load_speech(audio: str | Path, text: str | Path | None = None, *,
                transcribe: bool = False) -> tuple[np.ndarray, TimedWords]:
    """Read an audio file (any rate/channels) and the words of its optional transcript
    (TextGrid, JSON, plain text: :func:`~eggesture.data.word_timing.timed_words`), or its
    recognised words with ``transcribe``.

    Returns the waveform ``(N,)`` at 16 kHz mono and the timed words.
    """
    wave = load_audio(audio, AUDIO_SR)
    if wave.size < AUDIO_SR // 50:
        raise DataError(audio, f"audio is too short ({wave.size / AUDIO_SR * 1000:.0f} ms)")
    return wave, timed_words(wave, text, transcribe=transcribe)


def _wave_from_array(audio: np.ndarray, sr: int) -> np.ndarray:
    """A waveform ``(N,)``, ``(N, C)`` or ``(C, N)`` at ``sr`` → ``(N,)`` float32 at 16 kHz."""
    wave = np.asarray(audio, dtype=np.float32)
    if wave.ndim == 2:  # channels are the short axis (soundfile: (N, C); librosa: (C, N))
        wave = wave.mean(axis=1 if wave.shape[0] >= wave.shape[1] else 0)
    if wave.ndim != 1 or wave.size == 0:
        raise DataError(None, f"audio array must be (N,) or (N, C) with N ≥ 1, got {audio.shape}")
    if not np.isfinite(wave).all():
        raise DataError(None, "audio array holds NaN or infinite samples")
    if sr != AUDIO_SR:
        import librosa

        wave = librosa.resample(wave, orig_sr=sr, target_sr=AUDIO_SR, res_type="soxr_hq")
    return np.ascontiguousarray(wave, dtype=np.float32)


def generate(checkpoint: str | Path | Bundle, audio: str | Path | np.ndarray,
             text: str | Path | list[Word] | None = None, *, seed: int = 0, fps: float = 30,
             temperature: float = 0.0, sr: int = AUDIO_SR, posthoc_tau: float | None = None,
             transcribe: bool = False) -> Generated:
    """Generate gestures for speech: the library entry point (also ``eggesture.generate``).

    ``checkpoint`` is a bundle folder, a run folder or a loaded :class:`Bundle`; ``audio`` a file
    or a waveform ``(N,)`` / ``(N, C)`` at ``sr``; ``text`` a transcript file (a plain-text one
    is aligned to the speech) or timed words; with no text, ``transcribe`` recognises the words.
    ``fps`` is the rate the result will be written at (:func:`to_smplx_poses`); audio shorter
    than one frame at it is refused. Returns :class:`Generated` (model frame rate).
    """
    bundle = checkpoint if isinstance(checkpoint, Bundle) else load_bundle(checkpoint)
    text_file = None if text is None or isinstance(text, list) else text
    if isinstance(audio, np.ndarray):
        wave = _wave_from_array(audio, sr)
        words = timed_words(wave, text_file, transcribe=transcribe and text is None).words
    else:
        wave, timed = load_speech(audio, text_file, transcribe=transcribe and text is None)
        words = timed.words
    if isinstance(text, list):
        words = sorted(text, key=lambda w: (w.start, w.end))
    duration = wave.size / AUDIO_SR
    check_words_fit(words, duration, text_file if text_file is not None else "words")
    check_duration(duration, fps, None if isinstance(audio, np.ndarray) else audio)
    return generate_motion(bundle, wave, words, seed=seed, temperature=temperature,
                           posthoc_tau=posthoc_tau)


def to_smplx_poses(gen: Generated, fps: float = 30) -> np.ndarray:
    """BEAT2 ``poses (round(duration·fps), 165)``: generated joints slerped to ``fps``, others at rest."""
    return smplx_poses(gen.rotvec, gen.joint_names, gen.fps, gen.duration, out_fps=fps)


def _skeleton(bundle: Bundle):
    """The BVH skeleton a non-SMPL-X model was trained on (stored in its bundle)."""
    text = bundle.meta.get("skeleton_bvh")
    if not text:
        raise DataError(bundle.path, "the bundle has no skeleton to write BVH on")
    return parse_bvh(text, bundle.path)


def positions_for_preview(gen: Generated, bundle: Bundle, fps: float) -> tuple[np.ndarray, list[int]]:
    """Joint positions ``(T, J, 3)`` at ``fps`` and parents, for the stick-figure renderer."""
    if is_smplx(gen.joint_names):
        return root_relative(smplx_positions(to_smplx_poses(gen, fps))), list(SMPLX_PARENTS)
    n = n_frames_for(gen.duration, fps)
    rot = resample_rotations(gen.rotvec, gen.fps, fps, n_out=n)
    bvh = skeleton_motion(_skeleton(bundle), rot, gen.joint_names, fps)
    return root_relative(bvh.forward_kinematics() / 100.0), list(bvh.parents)


def save_outputs(gen: Generated, bundle: Bundle, *, out: Path | None, bvh: Path | None = None,
                 glb: Path | None = None, video: Path | None = None,
                 audio_path: Path | None = None, fps: float = 30) -> list[Path]:
    """Write the requested files, all or none; returns their paths.

    ``out`` (.npz): BEAT2 layout for SMPL-X models (poses (T,165), trans, betas, expressions,
    mocap_frame_rate); for models on another skeleton, ``rotations (T, J, 3)`` axis-angle,
    ``joint_names`` and ``mocap_frame_rate``. ``bvh``: on the approximate SMPL-X skeleton, or on
    the dataset's own skeleton. ``glb``: binary glTF 2.0 on the approximate SMPL-X skeleton
    (SMPL-X models only), its clip as long as the speech. On the SMPL-X skeleton both stand the
    body on the floor (pelvis 0.954 m up, :func:`~eggesture.data.skeleton.standing_trans`) while
    the npz keeps BEAT2's ``trans`` = 0. ``video``: a stick-figure preview with the speech. Every
    file is
    written to a temporary name beside its target and renamed only when all of them succeeded,
    so an error (e.g. in the video) leaves none of them behind.
    """
    targets = [Path(p) for p in (out, bvh, glb, video) if p is not None]
    if len({p.resolve() for p in targets}) < len(targets):
        raise DataError(targets[0], "the output files must have different names")
    smplx = is_smplx(gen.joint_names)
    if glb is not None and not smplx:
        raise DataError(bundle.path, "GLB export needs a model on the SMPL-X skeleton; this one "
                                     "was trained on a BVH dataset's skeleton: write BVH instead")
    poses = to_smplx_poses(gen, fps) if smplx else None
    rot = None if smplx else resample_rotations(gen.rotvec, gen.fps, fps,
                                                n_out=n_frames_for(gen.duration, fps))
    with ExitStack() as stack:  # each temporary is renamed onto its target when the stack closes
        if out is not None:
            tmp = stack.enter_context(atomic_path(out, suffix=".npz"))
            if smplx:
                write_beat2_npz(tmp, poses, int(fps))
            else:
                write_rotations_npz(tmp, rot, gen.joint_names, int(fps))
        if bvh is not None:
            tmp = stack.enter_context(atomic_path(bvh, suffix=".bvh"))
            if smplx:
                write_smplx_bvh(tmp, poses, fps)
            else:
                write_skeleton_bvh(tmp, _skeleton(bundle), rot, gen.joint_names, fps)
        if glb is not None:
            tmp = stack.enter_context(atomic_path(glb, suffix=".glb"))
            write_smplx_glb(tmp, poses, fps, duration=gen.duration)
        if video is not None:
            from ..export.render import DEFAULT_FPS, render_video

            tmp = stack.enter_context(atomic_path(video, suffix=".mp4"))
            pos, parents = positions_for_preview(gen, bundle, DEFAULT_FPS)
            render_video(tmp, [(pos, parents, "generated")], fps=DEFAULT_FPS,
                         audio_path=audio_path)
    return targets


#: Transcript file names beside an audio file in folder mode (``NAME.TextGrid`` / ``.json`` /
#: ``.txt``), in the order they are looked for.
TEXT_SUFFIXES = (".TextGrid", ".textgrid", ".json", ".txt")


@dataclass(frozen=True)
class Options:
    """How each file is generated and written: the output rate and the code choice."""

    fps: int = 30
    seed: int = 0
    temperature: float = 0.0
    posthoc_tau: float | None = None
    transcribe: bool = False
    """Recognise the words of speech that comes without a transcript."""


def check_glb(bundle: Bundle) -> None:
    """Refuse ``--glb`` for a model that is not on the SMPL-X skeleton (before any work)."""
    if not is_smplx(bundle.joint_names):
        raise DataError(bundle.path, "--glb needs a model on the SMPL-X skeleton (BEAT2, the "
                                     "synthetic corpus); this one was trained on a BVH "
                                     "dataset's skeleton: use --bvh")


@dataclass(frozen=True)
class FileResult:
    """One generated file: the speech's seconds, the seconds generation took (word timing and
    export left out), its words, how they were timed, and how many the model knows."""

    duration: float
    seconds: float
    n_words: int
    how: str
    n_known: int

    def describe(self) -> str:
        """``199 words (aligned; 118 not in the model's vocabulary)``, or ``no words``."""
        if not self.n_words:
            return "no words" if self.how == "none" else f"no words ({self.how})"
        unknown = self.n_words - self.n_known
        vocab = f"; {unknown} not in the model's vocabulary" if unknown else ""
        return f"{self.n_words} words ({self.how}{vocab})"


def generate_file(bundle: Bundle, audio: Path, text: Path | PlainText | None, out: Path, *,
                  bvh: Path | None = None, glb: Path | None = None, video: Path | None = None,
                  options: Options | None = None) -> FileResult:
    """Speech file in, the requested files out (all or none: :func:`save_outputs`)."""
    options = options or Options()
    wave, timed = load_speech(audio, text, transcribe=options.transcribe and text is None)
    check_duration(wave.size / AUDIO_SR, options.fps, audio)
    t0 = time.perf_counter()
    gen = generate_motion(bundle, wave, timed.words, seed=options.seed,
                          temperature=options.temperature, posthoc_tau=options.posthoc_tau)
    elapsed = time.perf_counter() - t0
    save_outputs(gen, bundle, out=out, bvh=bvh, glb=glb, video=video, audio_path=audio,
                 fps=options.fps)
    known = bundle.known_words([w.text for w in timed.words])
    return FileResult(gen.duration, elapsed, len(timed.words), timed.how, known)


@dataclass
class FolderItem:
    """One file of a folder: its name, speech seconds and generation seconds (None where it
    was not generated), and what happened (``ok: 12 words (aligned)``, ``ok: no words``,
    ``error: …``, ``skipped: …``)."""

    name: str
    duration: float | None
    seconds: float | None
    result: str

    @property
    def failed(self) -> bool:
        return self.result.startswith("error")


def transcript_for(audio: Path) -> Path | None:
    """The transcript beside ``audio`` with its name (:data:`TEXT_SUFFIXES`), if any."""
    for suffix in TEXT_SUFFIXES:
        cand = audio.with_suffix(suffix)
        if cand.is_file():
            return cand
    return None


def generate_folder(bundle: Bundle, folder: Path, out: Path, *, text_dir: Path | None = None,
                    bvh: bool = False, glb: bool = False, video: bool = False,
                    options: Options | None = None) -> list[FolderItem]:
    """Every audio file of ``folder`` to ``out/NAME.npz`` (and ``.bvh``, ``.glb``, ``.mp4`` when
    asked), with the transcript beside it (or in ``text_dir``) when there is one. A file that
    fails is reported and the others go on; other files (transcripts aside) are listed as
    skipped, so a recording in a format we do not read is seen to be left out."""
    entries = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    files = [p for p in entries if is_audio_file(p)]
    skipped = [p for p in entries if not is_audio_file(p) and p.suffix not in TEXT_SUFFIXES]
    if not files:
        found = f"; found {', '.join(f.name for f in skipped[:3])}" if skipped else ""
        raise DataError(folder, f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in the folder{found}")
    if out.suffix or (out.exists() and not out.is_dir()):
        raise DataError(out, "--out must be a folder when --audio is a folder")
    if text_dir is not None and not text_dir.is_dir():
        raise DataError(text_dir, "--text must be a folder of transcripts (NAME.TextGrid, "
                                  "NAME.json or NAME.txt) when --audio is a folder")
    out.mkdir(parents=True, exist_ok=True)
    items, stems = [], {}
    for f in files:
        text = transcript_for(text_dir / f.name if text_dir else f)
        if f.stem in stems:  # a.wav and a.mp3 would both write a.npz
            items.append(FolderItem(f.name, None, None, f"error: {f}: has the name of "
                                    f"{stems[f.stem]}, whose outputs ({f.stem}.npz, …) it would "
                                    "overwrite"))
            continue
        stems[f.stem] = f.name
        extra = {k: out / f"{f.stem}{suffix}" for k, suffix, on in (
            ("bvh", ".bvh", bvh), ("glb", ".glb", glb), ("video", ".mp4", video)) if on}
        try:
            res = generate_file(bundle, f, text, out / f"{f.stem}.npz", options=options, **extra)
            items.append(FolderItem(f.name, res.duration, res.seconds, f"ok: {res.describe()}"))
        except EggestureError as e:
            items.append(FolderItem(f.name, None, None, f"error: {e}"))
    items += [FolderItem(f.name, None, None, "skipped: not an audio format eggesture reads")
              for f in skipped]
    return items
