"""The semantic gesture library of the synthetic speaker: each class with its keywords, carrier
phrases and arm-and-hand key poses (:class:`GestureClass`, :data:`GESTURES`, :data:`MAX_CLASSES`).

Classes are listed in Zipf rank order: a corpus with ``classes = K`` uses the first ``K``, and
rank 1 is the most frequent. Key poses (:class:`~eggesture.data.synthetic.arm.ArmKey`) are in
each arm's outward frame, so a left-handed speaker performs the mirror image.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arm import ArmKey


@dataclass(frozen=True)
class GestureClass:
    """A semantic gesture class: its keywords and its arm-and-hand trajectory.

    ``main`` are the key poses of the speaker's dominant arm, ``other`` those of the other arm
    (empty: it stays where it is). The stroke starts at the keyword's onset, runs through the
    keys and holds the last one; before it the arms travel from wherever they are to the first
    key, after it they return. Keys are in each arm's outward frame, so a left-handed speaker
    performs the mirror image. ``carriers`` are phrases with a ``{}`` for the keyword.
    """

    name: str
    keywords: tuple[str, ...]
    carriers: tuple[str, ...]
    duration: float
    main: tuple[ArmKey, ...]
    other: tuple[ArmKey, ...] = ()
    description: str = ""


def _sym(*keys: ArmKey) -> dict:
    return {"main": keys, "other": keys}


_PALM_IN, _PALM_UP, _PALM_DOWN = (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, -1.0, 0.0)
_PALM_FWD, _PALM_BODY = (0.0, 0.0, 1.0), (0.0, 0.0, -1.0)
_ELBOW_OUT = (1.0, -0.6, -0.2)

_SELF = ArmKey((0.02, 0.30, 0.12), _PALM_BODY, "flat", _ELBOW_OUT, flex=5.0)
_BIG = ArmKey((0.56, 0.40, 0.22), (-1.0, 0.0, 0.3), "open", (0.2, -1.0, -0.6), flex=-10.0)
_ONE = ArmKey((0.20, 0.56, 0.26), _PALM_FWD, "point", (0.3, -1.0, 0.0))
_YOU = ArmKey((0.14, 0.36, 0.52), (-0.5, -1.0, 0.0), "point", (0.5, -1.0, -0.2))
_STOP = ArmKey((0.20, 0.43, 0.46), _PALM_FWD, "flat", (0.4, -1.0, -0.2), flex=-55.0)
_THINK = ArmKey((0.15, 0.50, 0.16), (-1.0, 0.0, -0.3), "point", (1.0, -0.5, 0.1), flex=-15.0)
_SMALL = ArmKey((0.12, 0.30, 0.36), (-1.0, -0.3, 0.0), "pinch", (0.5, -1.0, -0.3))
_NO = ArmKey((0.06, 0.17, 0.36), _PALM_DOWN, "flat", (0.5, -1.0, -0.3))
_YES = ArmKey((0.20, 0.26, 0.40), _PALM_IN, "thumb_up", (0.3, -1.0, -0.2))
_TWO = ArmKey((0.31, 0.58, 0.22), (0.3, 0.0, 1.0), "v", (0.6, -1.0, 0.0))
_ALL = ArmKey((0.12, 0.22, 0.45), _PALM_UP, "open", (0.4, -1.0, -0.3))
_UP = ArmKey((0.22, 0.12, 0.32), _PALM_UP, "open", (0.4, -1.0, -0.3), flex=-10.0)
_DOWN = ArmKey((0.22, 0.45, 0.35), _PALM_DOWN, "flat", (0.6, -1.0, -0.2))
_GIVE = ArmKey((0.15, 0.20, 0.30), (-0.2, 1.0, 0.0), "cupped", (0.3, -1.0, -0.4))
_HELLO = ArmKey((0.33, 0.62, 0.15), _PALM_FWD, "open", (0.6, -1.0, 0.0), flex=-10.0)
_COME = ArmKey((0.20, 0.28, 0.45), _PALM_UP, "open", (0.3, -1.0, -0.3))
_FAR = ArmKey((0.35, 0.45, 0.35), _PALM_DOWN, "point", (0.3, -1.0, -0.3))
_HEART_HI = ArmKey((-0.06, 0.37, 0.11), _PALM_BODY, "flat", _ELBOW_OUT)
_HEART_LO = ArmKey((-0.06, 0.29, 0.13), _PALM_BODY, "flat", _ELBOW_OUT)
_MONEY = ArmKey((0.16, 0.30, 0.38), _PALM_UP, "rub", (0.4, -1.0, -0.3))
_WHY = ArmKey((0.30, 0.18, 0.18), (0.3, 1.0, 0.0), "open", (0.3, -1.0, -0.4), shrug=8.0)
_THREE = ArmKey((0.14, 0.45, 0.35), _PALM_FWD, "three", (0.4, -1.0, -0.1))
_WATCH = ArmKey((-0.02, 0.22, 0.33), _PALM_DOWN, "relaxed", _ELBOW_OUT)
_TAP = ArmKey((0.17, 0.31, 0.36), _PALM_DOWN, "point", (0.5, -1.0, -0.2), flex=30.0)
_STRONG = ArmKey((0.40, 0.62, 0.06), (-1.0, 0.0, 0.3), "fist", (1.0, -0.5, -0.2))
_FAST = ArmKey((0.18, 0.32, 0.18), _PALM_IN, "flat", (0.4, -1.0, -0.4))
_CALM = ArmKey((0.25, 0.28, 0.35), _PALM_DOWN, "open", (0.5, -1.0, -0.3))
_LISTEN = ArmKey((0.17, 0.50, 0.02), _PALM_FWD, "cupped", (1.0, -0.5, 0.0), flex=-10.0)
_LOOK = ArmKey((0.07, 0.48, 0.25), _PALM_DOWN, "v", (0.5, -1.0, 0.0))

#: The gesture library, in Zipf rank order (the first ``classes`` are used; rank 1 is the most
#: frequent). Keywords never occur in any other phrase of the corpus.
GESTURES: tuple[GestureClass, ...] = (
    GestureClass(
        "self", ("myself", "personally"),
        ("i {} wanted to try it", "that is what i {} believe", "for me {} it was simple"),
        1.1, (_SELF, _SELF.moved(dz=0.04), _SELF),
        description="flat dominant hand patted on the chest"),
    GestureClass(
        "big", ("big", "huge", "enormous"),
        ("it was a {} change", "we saw a {} crowd there", "they built a {} house",
         "that was a {} problem"),
        1.2, **_sym(_BIG.moved(-0.16, -0.05, 0.08), _BIG),
        description="both arms spread wide, open hands facing each other"),
    GestureClass(
        "one", ("one", "single", "first"),
        ("there is only {} reason", "she made {} simple rule", "just {} more step"),
        0.9, (_ONE, _ONE.moved(dy=0.04)),
        description="dominant forearm up, index finger raised"),
    GestureClass(
        "you", ("you", "yourself"),
        ("this is for {}", "i made it for {}", "we waited for {}"),
        0.9, (_YOU.moved(dz=-0.12), _YOU),
        description="dominant arm reaching forward, index pointing at the listener"),
    GestureClass(
        "stop", ("stop", "wait", "halt"),
        ("please {} right there", "we had to {} again", "they told us to {}"),
        1.0, (_STOP.moved(dz=-0.14), _STOP),
        description="dominant palm pushed out toward the listener, fingers up"),
    GestureClass(
        "think", ("think", "imagine", "wonder"),
        ("i often {} about it", "we should {} about this", "people {} about the future"),
        1.3, (_THINK, _THINK.moved(-0.015, -0.02, 0.01), _THINK),
        description="index finger tapped at the temple"),
    GestureClass(
        "small", ("small", "tiny", "little"),
        ("it was a {} thing", "we had a {} garden", "she found a {} mistake"),
        1.1, (_SMALL, _SMALL.moved(hand="pinch_closed"), _SMALL),
        description="thumb and index pinching in front of the chest"),
    GestureClass(
        "no", ("no", "never", "nothing"),
        ("there was {} answer", "we said {} to that", "they had {} choice"),
        1.1, **_sym(_NO, _NO.moved(0.36, -0.02, -0.08)),
        description="both flat hands sweeping outward, palms down"),
    GestureClass(
        "yes", ("yes", "agree", "exactly"),
        ("we all said {}", "i have to {} with that", "she answered {} at once"),
        0.9, (_YES, _YES.moved(dy=-0.05), _YES),
        description="dominant thumb up, pumped once"),
    GestureClass(
        "two", ("two", "twice", "second"),
        ("we waited {} weeks", "she called {} days later", "he tried it {} more"),
        1.0, (_TWO, _TWO.moved(dy=0.04)),
        description="raised V sign, palm out, beside the head"),
    GestureClass(
        "everyone", ("everyone", "everybody", "together"),
        ("{} came to the party", "we sang it {}", "{} was very happy"),
        1.4, **_sym(_ALL, _ALL.moved(0.18, 0.02, -0.05), _ALL.moved(0.36, 0.0, -0.23)),
        description="both open palms up, sweeping a wide arc outward"),
    GestureClass(
        "up", ("up", "rise", "higher"),
        ("prices went {} again", "the sun came {} early", "the water started to {}"),
        1.1, (_UP, _UP.moved(0.04, 0.50, -0.02)),
        description="dominant palm up, lifted from the waist to above the shoulder"),
    GestureClass(
        "down", ("down", "fall", "lower"),
        ("the numbers went {}", "we walked {} the street", "the leaves began to {}"),
        1.1, (_DOWN, _DOWN.moved(0.03, -0.31, -0.07, flex=-25.0)),
        description="dominant palm down, pushed from chest height to the hip"),
    GestureClass(
        "give", ("give", "offer", "share"),
        ("we can {} them the book", "i want to {} something", "they {} help to people"),
        1.2, **_sym(_GIVE, _GIVE.moved(0.03, 0.05, 0.20)),
        description="both cupped palms up, offered forward"),
    GestureClass(
        "hello", ("hello", "welcome", "greetings"),
        ("{} to our show", "she said {} to the class", "we heard a loud {}"),
        1.5, (_HELLO, _HELLO.moved(-0.08), _HELLO.moved(0.07), _HELLO.moved(-0.07), _HELLO),
        description="raised open hand waving side to side"),
    GestureClass(
        "come", ("come", "join", "bring"),
        ("please {} with us", "they will {} tomorrow", "we asked him to {} along"),
        1.4, (_COME, _COME.moved(hand="curled", flex=25.0), _COME),
        description="dominant palm up, fingers beckoning twice"),
    GestureClass(
        "far", ("far", "away", "distant"),
        ("the village is {} from here", "they moved {} last year", "it looked very {}"),
        1.2, (_FAR, _FAR.moved(0.15, 0.17, -0.05)),
        description="dominant arm stretched high and outward, pointing into the distance"),
    GestureClass(
        "heart", ("heart", "love", "feel"),
        ("we {} it very much", "with all my {}", "they {} the music"),
        1.4, (_HEART_HI,), (_HEART_LO,),
        description="both flat hands crossed on the chest"),
    GestureClass(
        "money", ("money", "price", "cost"),
        ("the {} was too high", "we talked about the {}", "nobody asked about the {}"),
        1.3, (_MONEY, _MONEY.moved(hand="rub_in"), _MONEY, _MONEY.moved(hand="rub_in")),
        description="dominant palm up, thumb rubbing the fingertips"),
    GestureClass(
        "world", ("world", "everywhere", "planet"),
        ("people all over the {}", "we travelled the {}", "the {} keeps changing"),
        1.5, (_WORLD := ArmKey((0.22, 0.47, 0.38), (-1.0, 0.0, 0.3), "open", (0.5, -1.0, -0.2)),
              _WORLD.moved(0.12, -0.12), _WORLD.moved(0.0, -0.24), _WORLD.moved(-0.12, -0.12),
              _WORLD),
        description="open dominant hand drawing a circle in front of the body"),
    GestureClass(
        "why", ("why", "question", "puzzle"),
        ("that is the real {}", "nobody knew {}", "it remains a {}"),
        1.2, **_sym(_WHY, _WHY.moved(0.02, 0.03, shrug=14.0)),
        description="shrug: both palms up at the sides, shoulders raised"),
    GestureClass(
        "three", ("three", "third", "triple"),
        ("we stayed {} weeks", "she was the {} person", "it took {} tries"),
        1.0, (_THREE, _THREE.moved(dy=0.03)),
        description="three fingers raised in front of the chest, palm out"),
    GestureClass(
        "time", ("time", "late", "hour"),
        ("we ran out of {}", "it was already {}", "the {} went by"),
        1.4, (_TAP, _TAP.moved(dy=0.03), _TAP, _TAP.moved(dy=0.03), _TAP), (_WATCH,),
        description="dominant index tapping the other wrist"),
    GestureClass(
        "strong", ("strong", "power", "force"),
        ("she is very {}", "they felt the {} of it", "the wind was {}"),
        1.4, (_STRONG.moved(-0.04, -0.10, 0.03), _STRONG),
        description="fist raised beside the head, upper arm out (flexed biceps)"),
    GestureClass(
        "fast", ("fast", "quick", "rush"),
        ("the car was very {}", "it all happened so {}", "we made a {} decision"),
        0.7, (_FAST, _FAST.moved(-0.03, 0.03, 0.37)),
        description="flat dominant hand shooting forward"),
    GestureClass(
        "calm", ("calm", "slow", "relax"),
        ("please stay {}", "the lake was {}", "we tried to {}"),
        1.5, **_sym(_CALM, _CALM.moved(0.02, -0.14, -0.07, flex=-20.0)),
        description="both palms down, pressing slowly toward the floor"),
    GestureClass(
        "listen", ("listen", "hear", "sound"),
        ("we could {} the birds", "they did not {}", "the {} was beautiful"),
        1.3, (_LISTEN, _LISTEN.moved(dz=0.02)),
        description="cupped hand held behind the ear"),
    GestureClass(
        "look", ("look", "see", "watch"),
        ("just {} at this", "we went to {} the game", "i want to {} it again"),
        1.1, (_LOOK, _LOOK.moved(0.08, -0.03, 0.20)),
        description="V fingers moving from the eyes forward"),
)

#: Most classes one corpus can have.
MAX_CLASSES = len(GESTURES)
