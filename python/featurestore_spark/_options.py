"""The connector's options with Python names, from options.json: the description rust/core/src/options.rs
generates (a test there keeps the file current). Each Python name is the snake_case of the option's name
(maxInFlight -> max_in_flight); no name, default or rule is written here. The values are checked by the engine
itself, through the jar, before a job starts (see ingest)."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple


@dataclass(frozen=True)
class OptionSpec:
    """One option of the connector, as options.rs describes it."""

    name: str  # the connector's name (camelCase), as .option(...) takes it
    python_name: str
    type: str
    required: bool
    default: Optional[str]
    doc: str
    secret: bool


class OptionError(ValueError):
    """Options that cannot work, every problem at once; raised before any Spark job runs."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        super().__init__(f"invalid featurestore options ({count}): " + "; ".join(problems))


def snake_case(name: str) -> str:
    """`maxInFlight` -> `max_in_flight`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _load() -> Dict[str, OptionSpec]:
    text = resources.files(__package__).joinpath("options.json").read_text(encoding="utf-8")
    specs = [
        OptionSpec(o["name"], snake_case(o["name"]), o["type"], o["required"], o["default"], o["doc"], o["secret"])
        for o in json.loads(text)["options"]
    ]
    return {spec.python_name: spec for spec in specs}


OPTIONS: Dict[str, OptionSpec] = _load()
BY_CONNECTOR_NAME: Dict[str, OptionSpec] = {spec.name: spec for spec in OPTIONS.values()}
FEATURE_GROUP = BY_CONNECTOR_NAME["featureGroupName"]
# ingest takes the feature group as its argument `feature_group`, not as an option.
FEATURE_GROUP_ARGUMENT = "feature_group"


def value_text(value: Any) -> str:
    """The text the connector reads for a Python value: true/false, numbers as written, lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(value_text(v) for v in value)
    return str(value)


def unknown_name_problem(name: str) -> str:
    squashed = name.replace("_", "").lower()
    # The connector's own spelling (or any case of it) maps to one name; other misses to the closest one.
    nearest = [s.python_name for s in OPTIONS.values() if s.name.lower() == squashed] or \
        difflib.get_close_matches(name.lower(), list(OPTIONS), n=1, cutoff=0.6)
    hint = f" (did you mean '{nearest[0]}'?)" if nearest else ""
    return f"{name}: unknown option{hint}"


def connector_options(options: Mapping[str, Any]) -> Tuple[Dict[str, str], List[str]]:
    """The options under their connector names, as text (None means not given), and the names that are not
    options, each with its nearest valid name."""
    given: Dict[str, str] = {}
    problems: List[str] = []
    for name, value in options.items():
        spec = OPTIONS.get(name)
        if spec is None:
            problems.append(unknown_name_problem(name))
        elif spec is FEATURE_GROUP:
            problems.append(f"{name}: give the feature group as ingest's argument {FEATURE_GROUP_ARGUMENT}")
        elif value is not None:
            given[spec.name] = value_text(value)
    return given, problems


_CONNECTOR_NAME = re.compile(r"\b(" + "|".join(map(re.escape, BY_CONNECTOR_NAME)) + r")\b")


def with_python_names(text: str) -> str:
    """`text` with the options it names under their Python names (the feature group as ingest's argument)."""

    def python(match: re.Match) -> str:
        spec = BY_CONNECTOR_NAME[match.group(1)]
        return FEATURE_GROUP_ARGUMENT if spec is FEATURE_GROUP else spec.python_name

    return _CONNECTOR_NAME.sub(python, text)


def python_problem(option: str, message: str) -> str:
    """One problem the engine reported, with the options named as Python names (its messages name other options
    too: 'applies only with operation=delete', '... but featureGroupName is an ARN in us-east-1')."""
    return f"{with_python_names(option)}: {with_python_names(message)}"


def describe(specs: Iterable[OptionSpec]) -> str:
    """The options as a list for help texts."""
    lines = []
    for spec in specs:
        default = "required" if spec.required else f"default: {spec.default}"
        lines.append(f"    {spec.python_name} ({spec.type}; {default}): {with_python_names(spec.doc)}")
    return "\n".join(lines)
