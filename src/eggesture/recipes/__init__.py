"""The recipes: the pipelines a user runs, built from the components.

``train`` (prepare the data, fit with Lightning, write the bundle), ``generate`` (speech in,
motion out, window by window), ``evaluate`` (generate a split, then every metric), ``demo``
(the whole claim on a CPU) and ``ablate`` (the paper's tables). Recipes import components
(``data``, ``features``, ``models``, ``training``, ``evaluation``, ``metrics``, ``export``);
no component imports a recipe.
"""
