"""The new-sweep form: a few fields over a YAML/JSON editor, checked by sweeps.config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import yaml
from django import forms
from django.db.models import QuerySet

from projects.models import Project
from sweeps import config as sweep_config
from sweeps.config_warnings import ConfigWarning, config_warnings
from sweeps.models import Method

AS_IN_CONFIG = ("", "As in the config")

EXAMPLE_CONFIG = """\
# A W&B sweep config: paste yours unchanged.
# The fields beside this editor override method, metric and run_cap.
program: train.py
method: bayes
metric:
  name: val_loss
  goal: minimize
parameters:
  learning_rate:
    distribution: log_uniform_values
    min: 0.00001
    max: 0.1
  batch_size:
    values: [32, 64, 128]
  dropout:
    min: 0.0
    max: 0.5
  optimizer:
    values: [adam, sgd]
early_terminate:
  type: hyperband
  min_iter: 3
run_cap: 50
"""


class SweepForm(forms.Form):
    """The fields override the same keys of the config; blank ones leave the config as it is."""

    project = forms.ModelChoiceField(
        queryset=Project.objects.none(),
        empty_label=None,
        help_text="Projects where you may create sweeps (editor or admin).",
    )
    name = forms.CharField(
        max_length=200, required=False, help_text="Defaults to the config's name."
    )
    description = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    method = forms.ChoiceField(choices=[AS_IN_CONFIG, *Method.choices], required=False)
    metric_name = forms.CharField(
        label="Metric", max_length=255, required=False, widget=forms.TextInput()
    )
    metric_goal = forms.ChoiceField(
        label="Goal",
        choices=[("", "As in config"), ("minimize", "Minimize"), ("maximize", "Maximize")],
        required=False,
    )
    run_cap = forms.IntegerField(
        label="Run cap",
        min_value=1,
        max_value=1_000_000,
        required=False,
        help_text="Most trials to hand out.",
    )
    config_text = forms.CharField(
        label="Config (YAML or JSON)",
        # Kept exactly as typed: it is stored and shown again.
        strip=False,
        max_length=200_000,
        widget=forms.Textarea(
            attrs={
                "rows": 24,
                "class": "code-editor",
                "spellcheck": "false",
                "autocapitalize": "off",
                "autocomplete": "off",
            }
        ),
    )

    def __init__(self, *args: Any, projects: QuerySet[Project] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The project comes from the URL on a project's own page.
        if projects is None:
            del self.fields["project"]
        else:
            field = cast(forms.ModelChoiceField, self.fields["project"])
            field.queryset = projects
            # Why the type: ignore below: Django's documented way to label the choices.
            field.label_from_instance = lambda project: project.name  # type: ignore[assignment]
        self.problems: list[tuple[str, str]] = []
        # Set by clean() when the config is valid; the view adds the metric's hint.
        self.config: sweep_config.SweepConfig | None = None
        self.warnings: list[ConfigWarning] = []
        # The text's reading by clean(), kept for the builder (one parse per check).
        self.parsed: tuple[object] | None = None
        self.fields["metric_name"].widget.attrs["placeholder"] = "As in the config"

    @property
    def templates(self) -> tuple[ConfigTemplate, ...]:
        return CONFIG_TEMPLATES

    @property
    def builder(self) -> dict[str, Any]:
        """The parameter builder's rows for the text as it stands (as typed, or initial)."""
        return builder_data(self["config_text"].value() or "", self.parsed)

    @property
    def builder_setup(self) -> dict[str, Any]:
        """What the builder's script needs once: the distributions and the templates."""
        return builder_spec() | {"templates": {t.key: t.text for t in CONFIG_TEMPLATES}}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("config_text")
        if not text:
            return data
        try:
            raw = sweep_config.parse_text(text)
            self.parsed = (raw,)
            merged = with_overrides(raw, data)
            self.config = sweep_config.normalize(merged)
        except sweep_config.ConfigError as error:
            self.problems = error.problems
            self.add_error("config_text", f"The config has {len(error.problems)} problem(s).")
            # Screen readers read the list of problems with the editor.
            attrs = self.fields["config_text"].widget.attrs
            attrs |= {"aria-invalid": "true", "aria-describedby": "config-problems"}
            return data
        assert isinstance(merged, dict)  # normalize() accepted it
        self.warnings = config_warnings(merged, self.config)
        # Unchanged, the text is kept as typed (comments and all); overridden, the
        # stored config is the merged one so that what is shown is what runs.
        data["config"] = text if merged == raw else merged
        return data


def with_overrides(raw: object, data: dict[str, Any]) -> object:
    """The parsed config with the form's non-blank fields written over the same keys."""
    if not isinstance(raw, dict):
        return raw  # normalize() says what is wrong with it
    merged = dict(raw)
    if data.get("method"):
        merged["method"] = data["method"]
    name, goal = data.get("metric_name"), data.get("metric_goal")
    if name or goal:
        current = merged.get("metric")
        # A list (several objectives) is replaced by the one metric the fields describe.
        if isinstance(current, list):
            current = current[0] if current and isinstance(current[0], dict) else {}
        metric = dict(current) if isinstance(current, dict) else {}
        if name:
            metric["name"] = name
        if goal:
            metric["goal"] = goal
        merged["metric"] = metric
    if data.get("run_cap"):
        merged["run_cap"] = data["run_cap"]
    return merged


# Starting points on the new-sweep page --------------------------------------------------


@dataclass(frozen=True)
class ConfigTemplate:
    key: str
    label: str
    text: str


# Each creates a valid sweep as it stands (tests/sweep_pages/test_parameter_builder.py);
# their parameters are those examples/train.py reads.
CONFIG_TEMPLATES = (
    ConfigTemplate(
        "random",
        "Random search",
        """\
# Random search: every run draws each parameter from its distribution.
program: train.py
method: random
metric:
  name: val_loss
  goal: minimize
parameters:
  learning_rate:
    distribution: log_uniform_values
    min: 0.0001
    max: 0.3
  batch_size:
    values: [16, 32, 64, 128]
  weight_decay:
    distribution: log_uniform_values
    min: 1.0e-6
    max: 0.01
  optimizer:
    values: [adam, sgd]
run_cap: 30
""",
    ),
    ConfigTemplate(
        "grid",
        "Grid",
        """\
# Grid search: one run per combination, here 3 x 2 x 2 = 12.
program: train.py
method: grid
metric:
  name: val_accuracy
  goal: maximize
parameters:
  learning_rate:
    values: [0.001, 0.003, 0.01]
  optimizer:
    values: [adam, sgd]
  model:
    parameters:
      activation:
        values: [relu, tanh]
      hidden:
        value: 32
""",
    ),
    ConfigTemplate(
        "bayes-hyperband",
        "Bayes with Hyperband",
        """\
# Bayesian search; Hyperband stops a run that is behind its peers at 3, 9 and 27 epochs.
program: train.py
method: bayes
metric:
  name: val_loss
  goal: minimize
parameters:
  learning_rate:
    distribution: log_uniform_values
    min: 0.0001
    max: 0.3
  optimizer:
    values: [adam, sgd]
  model:
    parameters:
      hidden:
        distribution: int_uniform
        min: 8
        max: 64
      layers:
        values: [1, 2, 3]
  epochs:
    value: 50
early_terminate:
  type: hyperband
  min_iter: 3
  eta: 3
run_cap: 50
""",
    ),
    ConfigTemplate(
        "multi-objective",
        "Multi-objective",
        """\
# Several metrics at once: the sweep keeps the Pareto front of the trade-offs.
program: train.py
method: bayes
metric:
  - name: val_loss
    goal: minimize
  - name: val_accuracy
    goal: maximize
parameters:
  learning_rate:
    distribution: log_uniform_values
    min: 0.0001
    max: 0.3
  weight_decay:
    distribution: log_uniform_values
    min: 1.0e-6
    max: 0.01
  model:
    parameters:
      hidden:
        distribution: q_log_uniform_values
        min: 8
        max: 128
        q: 8
      activation:
        values: [relu, tanh]
run_cap: 40
""",
    ),
)


def template_text(key: str) -> str:
    """The config a new sweep starts from: the named template's, or the example."""
    return next((t.text for t in CONFIG_TEMPLATES if t.key == key), EXAMPLE_CONFIG)


# What the parameter builder shows (static/js/builder.js) ---------------------------------

# A parameter's keys the builder shows as fields; it keeps any other key as written.
BUILDER_FIELDS = ("value", "values", "probabilities", "min", "max", "q", "mu", "sigma", "a", "b")
# Shown without their brackets: "32, 64, 128".
LIST_FIELDS = ("values", "probabilities")
# Wide enough that PyYAML never folds a line.
ONE_LINE = 2**31


def yaml_literal(value: object) -> str:
    """`value` as one line of YAML that reads back as the same value (1.0e-05, 'yes')."""
    text = yaml.safe_dump(value, default_flow_style=True, width=ONE_LINE, allow_unicode=True)
    text = text.removesuffix("\n").removesuffix("\n...")
    if "\n" in text:
        # A string with line breaks: quoted, its breaks escaped, other scalars tagged.
        quoted = yaml.safe_dump(
            value, default_flow_style=True, default_style='"', width=ONE_LINE, allow_unicode=True
        )
        text = quoted.removesuffix("\n")
    return text


def builder_data(text: str, parsed: tuple[object] | None = None) -> dict[str, Any]:
    """The config text's parameters as the builder's rows, read as the server reads them
    (`parsed`: parse_text's reading of `text`, when the caller has it already).

    `readable` is false (with the reason) when the text is no YAML mapping; `yaml` is the
    whole config as YAML when the text is JSON (the builder writes YAML).
    """
    try:
        (raw,) = parsed or (sweep_config.parse_text(text),)
    except sweep_config.ConfigError as error:
        return {"readable": False, "reason": error.problems[0][1]}
    if not isinstance(raw, dict):
        return {"readable": False, "reason": "the config is not a mapping of keys"}
    parameters = raw.get("parameters")
    as_json = text.lstrip().startswith("{")
    return {
        "readable": True,
        "rows": builder_rows(parameters) if isinstance(parameters, dict) else [],
        "mapping": isinstance(parameters, dict) or parameters is None,
        "yaml": yaml.safe_dump(raw, sort_keys=False, allow_unicode=True) if as_json else None,
    }


def builder_rows(parameters: dict[Any, Any]) -> list[dict[str, Any]]:
    """A row per parameter, in config order; a group's rows nested in it."""
    rows = []
    for name, spec in parameters.items():
        row: dict[str, Any] = {"name": str(name), "key": yaml_literal(name)}
        if isinstance(spec, dict) and isinstance(spec.get("parameters"), dict):
            beside = [(k, v) for k, v in spec.items() if k != "parameters"]
            extra = [[yaml_literal(k), yaml_literal(v)] for k, v in beside]
            row |= {"group": builder_rows(spec["parameters"]), "extra": extra}
        elif isinstance(spec, dict):
            row |= builder_leaf(spec)
        else:
            row["written"] = yaml_literal(spec)
        rows.append(row)
    return rows


def builder_leaf(spec: dict[Any, Any]) -> dict[str, Any]:
    """A parameter's distribution (named, or inferred as the validator infers it), the
    fields the builder shows for it, and every other key, kept as written."""
    kind = spec.get("distribution")
    explicit = isinstance(kind, str) and kind in sweep_config.DISTRIBUTIONS
    distribution = kind if explicit else inferred_distribution(spec)
    shown = distribution_fields(distribution) if distribution else BUILDER_FIELDS
    fields: dict[str, str] = {}
    extra: list[list[str]] = []
    for key, value in spec.items():
        if key in LIST_FIELDS and key in shown and isinstance(value, list):
            fields[key] = yaml_literal(value)[1:-1]
        elif key in shown and key not in LIST_FIELDS:
            fields[key] = yaml_literal(value)
        elif key != "distribution" or not explicit:
            extra.append([yaml_literal(key), yaml_literal(value)])
    return {"distribution": distribution, "explicit": explicit, "fields": fields, "extra": extra}


def distribution_fields(kind: str) -> tuple[str, ...]:
    """The keys a distribution takes besides `distribution` and `grid_points`."""
    # Why the private read: the validator's table of each distribution's keys, so that
    # the builder shows exactly the keys the server accepts.
    required, defaults = sweep_config._SPEC[kind]
    return (*required, *defaults)


def inferred_distribution(spec: dict[Any, Any]) -> str:
    """What the validator reads a parameter without `distribution` as; "" if it cannot tell."""
    if "distribution" in spec:
        return ""  # an unknown one: the builder keeps it as written
    # Why the private call: the validator's own inference, so that the builder never
    # shows a parameter as something the server would not read it as.
    kind = sweep_config._distribution(spec, "", []) or ""
    return "q_uniform" if kind == "uniform" and "q" in spec else kind


# What each distribution draws, shown under its row (docs/sweep-config.md, "Distributions").
DISTRIBUTION_HINTS = {
    "constant": "every run gets this value",
    "categorical": "one of the values, each equally likely",
    "categorical_w_probabilities": "a value with its probability; the probabilities sum to 1",
    "int_uniform": "an integer in [min, max]",
    "uniform": "a float in [min, max]",
    "q_uniform": "round(U[min, max] / q) · q",
    "log_uniform": "exp(U[min, max]): min and max are natural logs",
    "log_uniform_values": "log-uniform in [min, max], min above 0",
    "q_log_uniform": "round(exp(U[min, max]) / q) · q: min and max are natural logs",
    "q_log_uniform_values": "log-uniform in [min, max], rounded to a multiple of q",
    "inv_log_uniform": "exp(−U[min, max])",
    "inv_log_uniform_values": "log-uniform in [min, max], as log_uniform_values",
    "normal": "Normal(mu, sigma)",
    "q_normal": "round(Normal(mu, sigma) / q) · q",
    "log_normal": "exp(Normal(mu, sigma))",
    "q_log_normal": "round(exp(Normal(mu, sigma)) / q) · q",
    "beta": "Beta(a, b), in [0, 1]",
    "q_beta": "round(Beta(a, b) / q) · q",
}
# The distribution chooser's sections, every distribution once.
DISTRIBUTION_GROUPS = (
    ("Fixed or a choice", ("constant", "categorical", "categorical_w_probabilities")),
    ("Uniform", ("uniform", "int_uniform", "q_uniform")),
    (
        "Log scale",
        (
            "log_uniform_values",
            "q_log_uniform_values",
            "inv_log_uniform_values",
            "log_uniform",
            "q_log_uniform",
            "inv_log_uniform",
        ),
    ),
    ("Normal", ("normal", "q_normal", "log_normal", "q_log_normal")),
    ("Beta", ("beta", "q_beta")),
)
# Placeholders of fields without a default.
FIELD_EXAMPLES = {"value": "32", "values": "32, 64, 128", "probabilities": "0.5, 0.25, 0.25"}


def builder_spec() -> dict[str, Any]:
    """Each distribution's fields, defaults and hint, in the chooser's sections."""
    distributions = {}
    for kind in sweep_config.DISTRIBUTIONS:
        defaults = sweep_config._SPEC[kind][1]
        distributions[kind] = {
            "fields": distribution_fields(kind),
            "placeholders": FIELD_EXAMPLES | {k: yaml_literal(v) for k, v in defaults.items()},
            "hint": DISTRIBUTION_HINTS[kind],
        }
    return {"distributions": distributions, "groups": DISTRIBUTION_GROUPS}
