"""Transcript readers: TextGrid, speech-recognition JSON, plain text; words → frames."""

from __future__ import annotations

import json

import numpy as np
import pytest

from beat2_folder import textgrid_text
from eggesture.data.transcript import (
    Word,
    frame_words,
    read_asr_json,
    read_textgrid,
    read_transcript,
    words_from_plain_text,
)
from eggesture.errors import DataError


def test_asr_json_genea_layout(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps([{"alternatives": [{"transcript": "Hello, World", "words": [
        {"start_time": "0.400s", "end_time": "0.800s", "word": "Hello,"},
        {"start_time": "0.900s", "end_time": "1.300s", "word": "World"}]}]}]))
    assert read_asr_json(p) == [Word(0.4, 0.8, "hello"), Word(0.9, 1.3, "world")]
    p.write_text('[{"alternatives": [{"words": [{"start_time": "soon", "end_time": "1s", "word": "x"}]}]}]')
    with pytest.raises(DataError, match="bad time value 'soon'"):
        read_asr_json(p)
    p.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        read_asr_json(p)


def test_textgrid_utf16(tmp_path):
    p = tmp_path / "a.TextGrid"
    p.write_text(textgrid_text([(0.2, 0.5, "Grüße"), (0.6, 0.9, "two")], 1.0), encoding="utf-16")
    assert [w.text for w in read_textgrid(p)] == ["grüße", "two"]


def test_textgrid_without_interval_tier(tmp_path):
    p = tmp_path / "p.TextGrid"
    p.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 1\n'
                 'tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n        class = "TextTier"\n'
                 '        name = "beats"\n        xmin = 0\n        xmax = 1\n'
                 '        points: size = 1\n        points [1]:\n            number = 0.5\n'
                 '            mark = "x"\n')
    with pytest.raises(DataError, match="no word tier"):
        read_textgrid(p)


def test_plain_text_words_fall_in_voiced_parts():
    sr = 16000
    t = np.arange(3 * sr) / sr
    wave = np.where((t > 1.0) & (t < 2.0), 0.3 * np.sin(2 * np.pi * 200 * t), 0.0).astype(np.float32)
    words = words_from_plain_text("one two three", wave, sr)
    assert [w.text for w in words] == ["one", "two", "three"]
    assert words[0].start >= 0.95 and words[-1].end <= 2.05
    assert all(a.end <= b.start + 1e-9 for a, b in zip(words, words[1:]))


def test_read_transcript_dispatch(tmp_path):
    """A .txt file is plain text, whose words are aligned to the speech that says them."""
    from speech import say

    p = tmp_path / "t.txt"
    p.write_text("Hello there!")
    wave, truth = say("hello there")
    words = read_transcript(p, wave, 16000)
    assert [w.text for w in words] == ["hello", "there"]
    assert max(abs(w.start - t.start) for w, t in zip(words, truth)) < 0.1


def test_frame_words_keeps_short_words():
    words = [Word(0.0, 0.2, "a"), Word(0.21, 0.24, "b"), Word(0.3, 0.5, "c")]
    frames = frame_words(words, 10, 15)  # frames at 0, 0.067, 0.133, 0.2, 0.267, ...
    assert frames[:3] == ["a", "a", "a"]
    assert frames[3] == "b"  # 0.21–0.24 covers no frame time; nearest frame 3 (0.2 s) was free
    assert frames[5:8] == ["c", "c", "c"] and frames[8] == ""
