"""The phrase grammar of the synthetic speaker: filler phrases from a small vocabulary, carrier
phrases for a gesture class's keywords, and :func:`vocabulary` (every word it can speak).

Filler phrases never contain a keyword, so a keyword is spoken only where its gesture is.
"""

from __future__ import annotations

import numpy as np

from .gestures import GESTURES, MAX_CLASSES, GestureClass

_SUBJECTS = ("we", "they", "my friends", "the team", "our teacher", "the students",
             "some people", "my brother", "my sister", "the children", "the doctor",
             "our neighbours", "the old man", "the young woman", "my parents", "the company",
             "the workers", "the farmer", "the artist", "the driver", "she", "he", "i")
_VERBS = ("bought", "painted", "cleaned", "visited", "found", "opened", "carried", "cooked",
          "repaired", "planted", "sold", "wrote", "read", "moved", "borrowed", "washed",
          "built", "tested", "ordered", "checked", "followed", "needed", "wanted", "liked",
          "enjoyed", "kept", "started", "finished", "picked", "packed", "counted",
          "collected", "described", "explained", "noticed", "remembered", "discussed",
          "covered", "signed", "printed", "painted", "fixed", "carried", "closed")
_DETS = ("the", "a", "our", "their", "this", "that", "some", "every")
_ADJS = ("new", "old", "red", "blue", "green", "wooden", "broken", "heavy", "simple",
         "strange", "quiet", "bright", "dark", "warm", "cold", "clean", "empty", "useful",
         "famous", "local", "early", "fresh", "soft", "round", "narrow", "modern", "ancient",
         "busy", "nice", "yellow")
_NOUNS = ("car", "house", "garden", "window", "kitchen", "letter", "book", "table", "chair",
          "bicycle", "boat", "bridge", "road", "river", "market", "school", "office",
          "station", "machine", "computer", "phone", "camera", "picture", "story", "song",
          "plan", "report", "project", "ticket", "map", "box", "bag", "door", "wall", "roof",
          "tree", "flower", "apple", "bread", "coffee", "dinner", "lunch", "breakfast", "shirt",
          "jacket", "shoes", "hat", "key", "lamp", "clock", "piano", "guitar", "paper",
          "bottle", "cup", "plate", "fence", "train", "bus", "airport", "museum", "library",
          "hospital", "restaurant", "hotel", "city", "island", "mountain", "forest", "beach")
_PLACES = ("in the morning", "last week", "after lunch", "on monday", "near the river",
           "at the station", "in the city", "before dinner", "last summer", "in the evening",
           "at school", "on the weekend", "after work", "in the kitchen", "yesterday", "today",
           "again", "outside", "at home", "on friday", "in april", "for a while")
_OPENERS = ("well", "so", "and then", "actually", "honestly", "of course", "in fact", "anyway",
            "but", "and", "then", "maybe", "luckily", "sadly", "suddenly", "usually")
_STATES = ("was", "seemed", "looked", "became")
# Everyday conversational English (common words of speech in general, not of any one
# recording), so that a real transcript shares more of its function words and frequent verbs
# with the training vocabulary. Gesture keywords are removed below: fillers never hold one.
_PRONOUNS = ("i", "we", "they", "he", "she", "it", "people", "everyone", "my family",
             "most people", "a friend of mine", "nobody")
_CONV_VERBS = ("think", "know", "like", "want", "need", "feel", "say", "go", "get", "make", "take",
               "look at", "work on", "try", "use", "find", "love", "play", "watch", "learn",
               "help", "keep", "talk about", "meet", "spend", "enjoy", "remember", "believe",
               "prefer", "hate", "miss", "visit", "cook", "read about", "listen to", "buy")
_CONV_OBJECTS = ("time", "work", "friends", "family", "music", "movies", "games", "sports",
                 "food", "weekends", "holidays", "books", "home", "life", "money", "things",
                 "the news", "the weather", "my job", "our plans", "new ideas", "good food",
                 "old friends", "the internet", "this place", "that kind of thing", "nature",
                 "the morning", "exercise", "my hobbies", "some rest", "a walk", "a lot of fun")
_ADVERBS = ("really", "just", "always", "sometimes", "usually", "often", "never", "still",
            "also", "actually", "probably", "especially", "mostly", "kind of")
_CONJUNCTIONS = ("because", "when", "if", "while", "as", "so", "or", "and", "but", "although")
_EVALUATIONS = ("good", "important", "helpful", "interesting", "nice", "hard", "easy", "fun",
                "relaxing", "useful", "better", "okay", "healthy", "boring", "exciting")


_KEYWORDS = {k for g in GESTURES for k in g.keywords}


def _no_keywords(options: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(o for o in options if not set(o.split()) & _KEYWORDS)


_PRONOUNS, _CONV_VERBS, _CONV_OBJECTS, _ADVERBS, _CONJUNCTIONS, _EVALUATIONS = map(
    _no_keywords, (_PRONOUNS, _CONV_VERBS, _CONV_OBJECTS, _ADVERBS, _CONJUNCTIONS, _EVALUATIONS))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _conversational_phrase(rng: np.random.Generator) -> list[str]:
    """An everyday spoken phrase: "i really like music", "because they need some rest",
    "it is important to learn new ideas"."""
    verb, obj = _pick(rng, _CONV_VERBS), _pick(rng, _CONV_OBJECTS)
    adv = [_pick(rng, _ADVERBS)] if rng.random() < 0.4 else []
    kind = rng.random()
    if kind < 0.45:
        words = [_pick(rng, _PRONOUNS), *adv, verb, obj]
    elif kind < 0.75:
        words = [_pick(rng, _CONJUNCTIONS), _pick(rng, _PRONOUNS), *adv, verb, obj]
    else:
        words = ["it", _pick(rng, ("is", "was", "feels", "can be")), _pick(rng, _EVALUATIONS),
                 "to", verb, obj]
    return " ".join(words).split()


def filler_phrase(rng: np.random.Generator) -> list[str]:
    """A phrase without any keyword, 3–10 words: a sentence of the story grammar, or (one in
    three) an everyday conversational phrase."""
    if rng.random() < 1 / 3:
        return _conversational_phrase(rng)
    adj = [_pick(rng, _ADJS)] if rng.random() < 0.5 else []
    obj = [_pick(rng, _DETS), *adj, _pick(rng, _NOUNS)]
    kind = rng.random()
    if kind < 0.55:
        words = [_pick(rng, _SUBJECTS), _pick(rng, _VERBS), *obj]
        if rng.random() < 0.5:
            words.append(_pick(rng, _PLACES))
    elif kind < 0.8:
        words = ["the", _pick(rng, _NOUNS), _pick(rng, _STATES), _pick(rng, _ADJS)]
        if rng.random() < 0.5:
            words.append(_pick(rng, _PLACES))
    else:
        words = [_pick(rng, _SUBJECTS), "said", "that", _pick(rng, _SUBJECTS), _pick(rng, _VERBS),
                 *obj]
    if rng.random() < 0.3:
        words.insert(0, _pick(rng, _OPENERS))
    return " ".join(words).split()


def carrier_phrase(rng: np.random.Generator, cls: GestureClass) -> tuple[list[str], int, str]:
    """A phrase carrying one of ``cls``'s keywords: tokens, the keyword's index, the keyword."""
    keyword = _pick(rng, cls.keywords)
    template = _pick(rng, cls.carriers)
    head, _, tail = template.partition("{}")
    prefix = _pick(rng, _OPENERS).split() if rng.random() < 0.3 else []
    before = prefix + head.split()
    return before + [keyword] + tail.split(), len(before), keyword


def vocabulary(classes: int = MAX_CLASSES) -> set[str]:
    """Every word the generator can speak with the first ``classes`` gesture classes."""
    groups = (_SUBJECTS, _VERBS, _DETS, _ADJS, _NOUNS, _PLACES, _OPENERS, _STATES, _PRONOUNS,
              _CONV_VERBS, _CONV_OBJECTS, _ADVERBS, _CONJUNCTIONS, _EVALUATIONS)
    words = {w for group in groups for phrase in group for w in phrase.split()}
    words |= {"said", "that", "it", "is", "was", "feels", "can", "be", "to"}
    for cls in GESTURES[:classes]:
        words.update(cls.keywords)
        for c in cls.carriers:
            words.update(c.replace("{}", " ").split())
    return words
