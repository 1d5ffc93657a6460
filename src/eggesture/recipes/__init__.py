"""The recipes: the pipelines a user runs, built from the components.

``train`` (prepare the data, fit with Lightning, write the bundle), ``generate`` (speech in,
motion out, window by window; one file or a folder), ``export`` (a motion ``.npz`` as glTF /
BVH), ``evaluate`` (generate a split, then every metric), ``fgd_train`` (a dataset's evaluation
nets), ``demo`` (the whole claim on a CPU) and ``ablate`` (the paper's tables). Recipes import
components (``data``, ``features``, ``models``, ``training``, ``evaluation``, ``metrics``,
``export``, ``reporting``, ``checkpoint``, ``runs``, ``paper``); no component imports a recipe
(``tests/test_layout.py``).
"""
