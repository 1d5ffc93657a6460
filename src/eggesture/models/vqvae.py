"""Motion VQ-VAE (paper §3.1, §3.4): a 1D-conv ResNet encoder and decoder around a quantizer.

TM2T-style: the encoder halves the frame rate twice with strided convolutions and residual
blocks (300 frames → 75 tokens, ``G → z_g``); the quantizer maps each token to a code (eq. 1–4,
or the entropy-guided quantizer of eq. 5–9); the decoder upsamples back (``ẑ_g → Ĝ``).
Motion is normalised 6D rotations of the generated joints, ``(B, T, D)`` with D = 6·joints.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import rearrange
from torch import nn

from .quantizer import QuantizerOutput, VectorQuantizer

#: Temporal downsampling of the encoder (two stride-2 stages).
DOWNSAMPLE = 4


class ResBlock1d(nn.Module):
    """Pre-activation residual block: ReLU → dilated conv(3) → ReLU → conv(1)."""

    def __init__(self, *, channels: int, dilation: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation),
            nn.ReLU(), nn.Conv1d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        return x + self.body(x)


def _res_stack(channels: int, depth: int) -> nn.Sequential:
    return nn.Sequential(*[ResBlock1d(channels=channels, dilation=3 ** i) for i in range(depth)])


class MotionEncoder(nn.Module):
    """``(B, T, in_dim)`` → ``(B, T/4, code_dim)``."""

    def __init__(self, *, in_dim: int, width: int = 256, code_dim: int = 256, depth: int = 2):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv1d(in_dim, width, 3, padding=1), nn.ReLU()]
        for _ in range(2):  # two stride-2 stages: 4× downsampling
            layers += [nn.Conv1d(width, width, 4, stride=2, padding=1), _res_stack(width, depth)]
        layers += [nn.Conv1d(width, code_dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rearrange(self.net(rearrange(x, "b t d -> b d t")), "b d t -> b t d")


class MotionDecoder(nn.Module):
    """``(B, T/4, code_dim)`` → ``(B, T, out_dim)``: nearest upsampling + 1D convs."""

    def __init__(self, *, out_dim: int, width: int = 256, code_dim: int = 256, depth: int = 2):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv1d(code_dim, width, 3, padding=1), nn.ReLU()]
        for _ in range(2):
            layers += [_res_stack(width, depth), nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv1d(width, width, 3, padding=1)]
        layers += [nn.ReLU(), nn.Conv1d(width, width, 3, padding=1), nn.ReLU(),
                   nn.Conv1d(width, out_dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return rearrange(self.net(rearrange(z, "b t d -> b d t")), "b d t -> b t d")


@dataclass
class VQVAEOutput:
    """Reconstruction ``(B, T, D)``, encoder latents ``(B, T/4, code_dim)`` and the quantizer's output."""

    recon: torch.Tensor
    latents: torch.Tensor
    quant: QuantizerOutput


class MotionVQVAE(nn.Module):
    """Encoder → quantizer → decoder. ``motion_dim`` = 6 × generated joints."""

    def __init__(self, *, motion_dim: int, quantizer: VectorQuantizer, width: int = 256,
                 depth: int = 2):
        super().__init__()
        code_dim = quantizer.dim
        self.motion_dim = motion_dim
        self.encoder = MotionEncoder(in_dim=motion_dim, width=width, code_dim=code_dim, depth=depth)
        self.quantizer = quantizer
        self.decoder = MotionDecoder(out_dim=motion_dim, width=width, code_dim=code_dim, depth=depth)

    def forward(self, motion: torch.Tensor) -> VQVAEOutput:
        """Reconstruct ``motion (B, T, D)``, T a multiple of 4."""
        if motion.shape[1] % DOWNSAMPLE:
            raise ValueError(f"motion length {motion.shape[1]} is not a multiple of {DOWNSAMPLE}")
        z = self.encoder(motion)
        q = self.quantizer(z)
        return VQVAEOutput(recon=self.decoder(q.quantized), latents=z, quant=q)

    @torch.no_grad()
    def encode(self, motion: torch.Tensor) -> torch.Tensor:
        """Code indices ``(B, T/4)`` of ``motion (B, T, D)``."""
        flat = rearrange(self.encoder(motion), "b t d -> (b t) d")
        return rearrange(self.quantizer.nearest(flat), "(b t) -> b t", b=motion.shape[0])

    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """Motion ``(B, 4·T', D)`` of code indices ``(B, T')``."""
        return self.decoder(self.quantizer.lookup(indices))
