"""The scenario language: files, their ``extends``, validation with located errors, hashing.

A scenario is read from YAML (:mod:`.yamlfile`), merged with the files it extends
(:mod:`.merge`), validated against the language's typed models (:mod:`.schema`, errors
worded by :mod:`.problems`) and as a whole (:mod:`.checks`), and identified by a hash
of what can change a result (:mod:`.load`).
"""

from sim.scenario.load import (
    load_scenario,
    override,
    scenario_files,
    scenario_from_dict,
    scenario_hash,
    set_value,
    with_horizon,
)
from sim.scenario.merge import merge
from sim.scenario.problems import validate_structure
from sim.scenario.schema import Scenario
from sim.scenario.yamlfile import load_yaml

__all__ = [
    "Scenario",
    "load_scenario",
    "load_yaml",
    "merge",
    "override",
    "scenario_files",
    "scenario_from_dict",
    "scenario_hash",
    "set_value",
    "validate_structure",
    "with_horizon",
]
