"""Evaluation metrics as pure functions on numpy arrays (DESIGN §5).

Each function states its equation, units and protocol, and never imports ``torch``,
``eggesture.models`` or ``eggesture.training``; features, joint positions and recogniser
labels are computed by the caller.

* :mod:`.fgd` — Fréchet distance between feature distributions (paper eq. 12);
* :mod:`.beat` — beat alignment (eq. 13) and the BEAT2/EMAGE protocol; audio onsets;
* :mod:`.diversity` — L1 diversity (eq. 14) and the BEAT2 per-sequence variant;
* :mod:`.codebook` — utilisation, perplexity, entropy, usage histogram, utilisation per epoch;
* :mod:`.recall` — semantic-gesture recall overall / head / tail.
"""

from .beat import (
    BeatAlignment,
    audio_onsets,
    beat_alignment,
    beat_alignment_emage,
    emage_audio_onsets,
    joint_speeds,
)
from .codebook import (
    CodebookStats,
    codebook_stats,
    sorted_usage,
    stats_from_counts,
)
from .diversity import L1Diversity, l1_diversity, l1_diversity_per_sequence
from .fgd import frechet_distance, frechet_distance_from_stats, gaussian_stats
from .recall import SemanticRecall, event_recalled, semantic_recall, split_head_tail

__all__ = [
    "BeatAlignment", "CodebookStats", "L1Diversity", "SemanticRecall", "audio_onsets",
    "beat_alignment", "beat_alignment_emage", "codebook_stats", "emage_audio_onsets",
    "event_recalled", "frechet_distance", "frechet_distance_from_stats", "gaussian_stats",
    "joint_speeds", "l1_diversity", "l1_diversity_per_sequence", "semantic_recall",
    "sorted_usage", "split_head_tail", "stats_from_counts",
]
