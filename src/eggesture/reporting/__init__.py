"""Reporting: what the recipes' measurements say, written for a reader.

``markdown`` (the one table renderer), ``tables`` (the multi-seed ablation tables: metrics per
evaluation, mean and interval per row, the markdown beside the paper's numbers), ``claims``
(the paper's claims decided from those tables' intervals), ``results_page`` (the results page
and the README's summary of it). Reporting imports components, never a recipe.
"""
