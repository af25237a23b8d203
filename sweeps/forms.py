"""The new-sweep form: a few fields over a YAML/JSON editor, checked by sweeps.config."""

from __future__ import annotations

from typing import Any, cast

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
        self.fields["metric_name"].widget.attrs["placeholder"] = "As in the config"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("config_text")
        if not text:
            return data
        try:
            raw = sweep_config.parse_text(text)
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
