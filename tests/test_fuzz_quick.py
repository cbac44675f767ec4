"""The quick runs of bench/fuzz.py: mutated state files and corrupted service answers end in a
valid result or a clean, located refusal, never a traceback (bench/fuzz.py runs thousands)."""

from __future__ import annotations

import warnings

from teamform import config as cfg
from teamform.testing import fuzz


def test_mutated_state_files_are_valid_or_refused_with_a_location(example_text):
    tally = fuzz.fuzz_state_files(example_text, cases=60, seed=7)
    assert tally.crashes == [], tally.crashes[:3]
    assert tally.outcomes["refused"] and tally.outcomes["valid"]  # both sides were exercised
    assert tally.slowest < 30  # a hang, not a speed figure: an alias bomb once took a minute


def test_corrupted_answers_are_a_state_or_an_incomplete_read(example_text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # reads cancelled by a sibling's failure
        tally = fuzz.fuzz_answers(cfg.load(example_text, "teams.yaml"), cases=10, seed=7)
    assert tally.crashes == [], tally.crashes[:3]
    assert tally.outcomes["incomplete read"] and tally.outcomes["read"]
