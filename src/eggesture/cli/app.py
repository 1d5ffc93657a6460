"""``eggesture app``: speech in, a gesturing body in the browser (a local web page)."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """A local web page: upload or record speech, optionally give its transcript (plain text
is aligned to it, as `eggesture generate --text` does), press Generate and watch a 3D body
gesture with the speech (play, pause and scrub with the audio; drag to orbit, wheel to zoom);
download the npz, BVH, GLB or a preview mp4. With --compare, a second model side by side
(e.g. EGGesture and vanilla from `eggesture demo`).

Offline: the page's 3D viewer is three.js from npm, fetched once by
`npm ci --prefix src/eggesture/app/web` (docs/usage.md); nothing is loaded from the internet.
Serves 127.0.0.1 unless --host says otherwise; each model is loaded once; one generation at a
time (others wait their turn)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="a local web page: speech → gestures in the browser",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="inference bundle (or its run folder); default: the "
                                        "packaged model of four synthetic speakers (docs/usage.md)")
    p.add_argument("--compare", help="a second bundle, shown side by side on request")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to serve (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--max-upload-mb", type=float, default=50.0,
                   help="largest upload accepted, audio and transcript together (default 50)")
    p.add_argument("--max-seconds", type=float, default=600.0,
                   help="longest speech accepted, in seconds (default 600)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..app.server import THREE, WEB, App, Limits, build_app, model_name
    from ..bundle import load_bundle
    from ..errors import ConfigError
    from ..recipes.generate import check_glb

    if not 1 <= args.port <= 65535:
        raise ConfigError(None, f"--port must be 1–65535, got {args.port}")
    try:
        limits = Limits(args.max_upload_mb, args.max_seconds)
    except ValueError as e:
        raise ConfigError(None, str(e)) from None
    from ..pretrained import default_checkpoint

    models = {}
    for path in filter(None, (args.checkpoint or default_checkpoint(), args.compare)):
        bundle = load_bundle(path)
        check_glb(bundle)  # the page plays the GLB: SMPL-X models only
        name = model_name(Path(path))
        models[name if name not in models else f"{name} (2)"] = bundle
    if not (THREE / "build" / "three.module.js").is_file():
        raise ConfigError(WEB, "the page's 3D viewer (three.js) is not installed: run "
                               f"`npm ci --prefix {WEB}` once (needs npm; docs/usage.md)")
    print(f"eggesture app: http://{args.host}:{args.port}/  (models: {', '.join(models)}; "
          "Ctrl-C stops)", flush=True)
    uvicorn.run(build_app(App(models, limits)), host=args.host, port=args.port,
                log_level="warning")
    return 0
