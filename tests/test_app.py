"""``eggesture app`` in a real browser: Playwright driving Debian's Chromium (headless, WebGL by
SwiftShader) against the server on loopback, with the tiny bundle of conftest.

Skipped with one line where the browser, Playwright or the page's three.js (``npm ci``) is
missing; CI installs all three (``.ci/run``).
"""

from __future__ import annotations

import io
import shutil
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import roma
import soundfile as sf
import torch

from eggesture.app.server import THREE, App, Limits, build_app
from eggesture.bundle import load_bundle
from speech import SR, say

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SENTENCE = "the first thing i like to do on weekends is relaxing"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_bundle_dir):
    """The app on a free loopback port, in a thread; yields (base URL, App)."""
    uvicorn = pytest.importorskip("uvicorn")
    if not (THREE / "build" / "three.module.js").is_file():
        pytest.skip(f"three.js not installed: npm ci --prefix {THREE.parents[1]}")
    app = App({"tiny": load_bundle(tiny_bundle_dir), "tiny again": load_bundle(tiny_bundle_dir)},
              Limits(max_upload_mb=2.0, max_seconds=30.0))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(build_app(app), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def wav(tmp_path) -> Path:
    path = tmp_path / "speech.wav"
    sf.write(path, say(SENTENCE)[0], SR, subtype="PCM_16")
    return path


#: Headless Chromium draws WebGL with SwiftShader.
WEBGL = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]


@pytest.fixture(scope="module")
def playwright():
    """One Playwright for the module (a second one cannot start in the same thread)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt install chromium)")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=WEBGL)
    yield b
    b.close()


def _generate(page, base: str, wav: Path, text: str = "", compare: bool = False) -> None:
    page.goto(base + "/")
    page.set_input_files("#audio", str(wav))
    if text:
        page.fill("#text", text)
    if compare:
        page.check("#compare")
    page.click("#generate")


def test_the_page_generates_plays_and_downloads(server, browser, wav, tmp_path):
    from pygltflib import GLTF2

    from eggesture.data.beat2 import read_motion
    from eggesture.data.bvh import read_bvh

    base, _ = server
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _generate(page, base, wav, text=SENTENCE.capitalize() + ".", compare=True)
    page.wait_for_function("window.eggesture.ready === true", timeout=60_000)
    duration = sf.info(wav).duration
    assert abs(page.evaluate("window.eggesture.clipDuration(0)") - duration) <= 1 / 15 + 1e-3
    assert page.evaluate("window.eggesture.clipDuration(1)") is not None  # side by side
    result = page.evaluate("window.eggesture.result")
    assert result["words_how"] == "aligned" and len(result["words"]) == len(SENTENCE.split())
    for name in ("motion.npz", "motion.bvh", "motion.glb", "preview.mp4"):
        with page.expect_download() as info:
            page.click(f"#downloads a[download='{name}']")
        path = tmp_path / name
        info.value.save_as(path)
        if name == "motion.npz":
            poses = read_motion(path)["poses"]
            assert poses.shape == (round(duration * 30), 165)
        elif name == "motion.bvh":
            assert read_bvh(path).n_frames == round(duration * 30)
        elif name == "motion.glb":
            assert len(GLTF2().load(str(path)).animations) == 1
        else:
            assert path.read_bytes()[4:8] == b"ftyp"
    # The body in the page at two times is the npz's right elbow at those frames (the two
    # frames where it differs most), so it moves as generated, in step with the audio clock.
    quat = roma.rotvec_to_unitquat(torch.as_tensor(poses[:, 19 * 3:20 * 3]))  # (T, 4) xyzw
    a, b = np.unravel_index(torch.cdist(quat, quat).argmax().item(), (len(quat),) * 2)
    elbow = quat.numpy()
    for f in (a, b):
        q = page.evaluate(f"window.eggesture.boneQuaternion('right_elbow', {f / 30})")
        assert min(np.abs(np.subtract(q, elbow[f])).max(), np.abs(np.add(q, elbow[f])).max()) < 1e-3
    assert np.abs(elbow[a] - elbow[b]).max() > 0
    page.screenshot(path=str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000 and not errors
    page.close()


def test_bad_uploads_get_one_line_on_the_page(server, browser, tmp_path):
    base, _ = server
    page = browser.new_page()
    bad = tmp_path / "notes.txt"
    bad.write_text("not audio")
    page.goto(base + "/")
    page.set_input_files("#audio", str(bad))
    page.click("#generate")
    page.wait_for_function("document.getElementById('status').className === 'error'")
    assert page.inner_text("#status").startswith("error: audio must be one of .wav")
    big = tmp_path / "long.wav"
    sf.write(big, np.zeros(40 * SR, np.float32), SR, subtype="PCM_16")  # 1.3 MB, 40 s
    page.set_input_files("#audio", str(big))
    page.click("#generate")
    page.wait_for_function("document.getElementById('status').textContent.includes('30 s')")
    assert "takes at most 30 s (--max-seconds)" in page.inner_text("#status")
    page.close()


def test_the_server_answers_concurrent_requests_and_keeps_no_files(server, wav):
    import httpx

    base, app = server
    before = {p.name for p in Path(tempfile.gettempdir()).glob("eggesture-app-*")}
    data = wav.read_bytes()

    def post(k: int):
        files = {"audio": (f"../../etc/passwd{k}.wav", data, "audio/wav")}  # name never a path
        return httpx.post(base + "/api/generate", files=files, timeout=120)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 4 and set(ids) <= set(app.results)
    after = {p.name for p in Path(tempfile.gettempdir()).glob("eggesture-app-*")}
    assert after == before
    too_big = httpx.post(base + "/api/generate", files={"audio": (
        "a.wav", io.BytesIO(bytes(3 * 2**20)), "audio/wav")}, timeout=60)
    assert too_big.status_code == 413 and "larger than 2 MB" in too_big.json()["error"]


def test_a_transcript_of_other_speech_is_warned_about_in_the_answer(server, wav):
    import json

    import httpx

    base, _ = server
    other = say("please open the window because it is hot in here")[1]
    transcript = json.dumps([{"word": w.text, "start": w.start, "end": w.end} for w in other])
    answer = httpx.post(base + "/api/generate", timeout=120, files={
        "audio": ("speech.wav", wav.read_bytes(), "audio/wav"),
        "transcript": ("words.json", transcript.encode(), "application/json")})
    assert answer.status_code == 200
    notes = answer.json()["warnings"]
    assert len(notes) == 1 and notes[0].startswith("transcript.json: the transcript's words do not")


def test_live_mode_moves_the_body_from_a_microphone(server, playwright, tmp_path):
    """Chromium's fake microphone plays espeak speech; the page streams it to /ws/live and poses
    the body with the frames that come back."""
    base, _ = server
    mic = tmp_path / "mic.wav"
    sf.write(mic, np.concatenate([say(SENTENCE)[0]] * 3), SR, subtype="PCM_16")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        *WEBGL, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}"])
    try:
        page = browser.new_page()
        page.goto(base + "/")
        page.click("#live")
        t0 = time.perf_counter()
        page.wait_for_function("window.eggesture.live.frames > 30", timeout=30_000)
        waited = time.perf_counter() - t0
        # 30 frames at 15 fps are 2 s of motion, out once 2 s + the 0.5 s lookahead are heard
        assert waited >= 2.0
        joints = page.evaluate("window.eggesture.live.joints")
        last = np.asarray(page.evaluate("window.eggesture.live.last")).reshape(len(joints), 3)
        j = joints.index("right_elbow")
        shown = page.evaluate("window.eggesture.views[0].model.getObjectByName('right_elbow')"
                              ".quaternion.toArray()")
        expect = roma.rotvec_to_unitquat(torch.as_tensor(last[j])).numpy()
        assert min(np.abs(shown - expect).max(), np.abs(shown + expect).max()) < 1e-3
        page.click("#live")
        page.wait_for_function("document.getElementById('status').textContent.includes('shown')")
    finally:
        browser.close()
