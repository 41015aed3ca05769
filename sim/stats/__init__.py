"""Statistics of outcomes: survival, intervals, medians, restricted means, paired differences.

Works on the model's outcomes (or their sufficient statistics) alone and is checked
against scipy and lifelines in the tests.
"""
