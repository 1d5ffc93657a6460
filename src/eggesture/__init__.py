"""EGGesture: entropy-guided VQ-VAE for co-speech gesture generation.

The command-line tool is ``eggesture`` (see ``eggesture --help``). Library entry points:

* :class:`eggesture.models.quantizer.EntropyGuidedQuantizer` — the paper's quantizer, usable alone;
* :func:`eggesture.generate` — speech in, SMPL-X rotations out (needs a trained bundle).
"""

from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so `import eggesture` does not pull in torch.
    if name == "generate":
        from .recipes.generate import generate

        return generate
    raise AttributeError(f"module 'eggesture' has no attribute {name!r}")
