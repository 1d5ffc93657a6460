"""``eggesture app`` under load, and the README's screenshot of it.

* **Load**: the server (in this process, on loopback) answers ``--requests`` generation requests
  sent at once (default 8: the issue's "8 concurrent requests"); per request the latency from
  sending to the full answer (p50, p90, p99, max), every status code, and the process's peak
  resident memory over the run (sampled every 20 ms) against its level before. The server
  generates one request at a time, so latency grows with the queue while memory stays that of
  one generation plus the kept results.
* **Screenshot** (``--screenshot PATH``): Chromium (Playwright) opens the page, uploads the
  speech with its transcript, generates side by side, seeks the audio to ``--at`` seconds and
  saves the page.

Run: ``python -m benchmarks.app --checkpoint demo_out/runs/eggesture --compare
demo_out/runs/vanilla [--screenshot docs/images/app.png]``; JSON to
``benchmarks/results/app.json``. Needs ``npm ci --prefix src/eggesture/app/web`` (three.js).
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from .common import ROOT, Run

SAMPLE = ROOT.parent / "shared" / "data" / "beat2_sample"
SEQ = "2_scott_0_1_1"


def _serve(models: dict, limits) -> tuple[str, object, threading.Thread]:
    import uvicorn

    from eggesture.app.server import App, build_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build_app(App(models, limits)), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def load(base: str, wav: Path, text: str, n: int) -> dict:
    import httpx

    data = wav.read_bytes()
    peak, stop = [_rss()], threading.Event()
    before = peak[0]

    def sample():
        while not stop.is_set():
            peak.append(_rss())
            time.sleep(0.02)

    def post(_):
        t = time.perf_counter()
        r = httpx.post(base + "/api/generate", files={"audio": (wav.name, data, "audio/wav")},
                       data={"text": text}, timeout=600)
        return r.status_code, time.perf_counter() - t

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(post, range(n)))
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    lat = np.array([s for _, s in answers])
    return {"requests": n, "status": [c for c, _ in answers],
            "speech_seconds": round(float(sf.info(wav).duration), 2),
            "latency_seconds": {"p50": round(float(np.percentile(lat, 50)), 2),
                                "p90": round(float(np.percentile(lat, 90)), 2),
                                "p99": round(float(np.percentile(lat, 99)), 2),
                                "max": round(float(lat.max()), 2)},
            "wall_seconds": round(wall, 2),
            "rss_before_mb": round(before / 2**20, 1),
            "peak_rss_growth_mb": round((max(peak) - before) / 2**20, 1)}


def screenshot(base: str, wav: Path, text: str, path: Path, at: float) -> None:
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"])
        page = browser.new_page(viewport={"width": 1180, "height": 720})
        page.goto(base + "/")
        page.set_input_files("#audio", str(wav))
        page.fill("#text", text)
        if page.is_visible("#compare"):
            page.check("#compare")
        page.click("#generate")
        page.wait_for_function("window.eggesture.ready === true", timeout=300_000)
        page.evaluate(f"document.getElementById('player').currentTime = {at}")
        time.sleep(1.0)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        browser.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--compare", type=Path, default=None)
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--screenshot", type=Path, default=None)
    ap.add_argument("--at", type=float, default=20.0, help="seconds into the speech to show")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from eggesture.app.server import Limits, model_name
    from eggesture.bundle import load_bundle
    from eggesture.data.transcript import read_textgrid

    wav = args.sample / "wave16k" / f"{SEQ}.wav"
    if not wav.is_file():
        print(f"error: {args.sample}: the BEAT2 sample is not there", file=sys.stderr)
        return 2
    text = " ".join(w.text for w in read_textgrid(args.sample / "textgrid" / f"{SEQ}.TextGrid"))
    models = {model_name(p): load_bundle(p) for p in filter(None, (args.checkpoint, args.compare))}
    run = Run("app", args.out)
    base, server, thread = _serve(models, Limits())
    try:
        run.results["load"] = load(base, wav, text, args.requests)
        if args.screenshot:
            screenshot(base, wav, text, args.screenshot, args.at)
            run.results["screenshot"] = str(args.screenshot)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    r = run.results["load"]
    run.write(f"{r['requests']} concurrent requests of {r['speech_seconds']} s speech: all "
              f"{'200' if set(r['status']) == {200} else r['status']}; latency p50 "
              f"{r['latency_seconds']['p50']} s, p99 {r['latency_seconds']['p99']} s; peak memory "
              f"+{r['peak_rss_growth_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
