"""The new-sweep page's parameter builder and templates (sweeps/forms.py, static/js/builder.js).

The server reads the YAML (builder_data, sent with every as-you-type check) and stays the one
validator; the builder writes the `parameters` block. The browser tests drive both sides.
"""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

import pytest
import yaml
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Project
from sweeps import config as sweep_config
from sweeps.forms import (
    CONFIG_TEMPLATES,
    DISTRIBUTION_GROUPS,
    DISTRIBUTION_HINTS,
    builder_data,
    builder_spec,
    yaml_literal,
)
from sweeps.models import Sweep
from tests.sweep_pages.helpers import HTMX, UI_TIMEOUT_MS, fits, log_in, shoot

URL = reverse("sweeps:project_new", args=["demo"])
CHECK = {**HTMX, "HX-Target": "config-check"}
# Every distribution, a nested group, a key the builder does not show, a name YAML would
# read as a boolean, and numbers that must keep their spelling (0.0 is a float, 8 an int).
EVERYTHING = """\
# a comment above
method: random
metric:
  name: loss
parameters:
  c: {value: adam}
  cat: {values: [1, two, 3.5]}
  catp: {values: [a, b], probabilities: [0.25, 0.75]}
  iu: {min: 1, max: 9}
  u: {min: 0.0, max: 0.5}
  qu: {distribution: q_uniform, min: 0.0, max: 1.0, q: 0.25}
  lu: {distribution: log_uniform, min: -9.2, max: -2.3}
  luv: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1, grid_points: 7}
  qlu: {distribution: q_log_uniform, min: 0.0, max: 4.0, q: 1}
  qluv: {distribution: q_log_uniform_values, min: 16, max: 256, q: 16}
  ilu: {distribution: inv_log_uniform, min: 1.0, max: 3.0}
  iluv: {distribution: inv_log_uniform_values, min: 0.01, max: 0.5}
  n: {distribution: normal, mu: 1.0, sigma: 0.5}
  qn: {distribution: q_normal, q: 0.5}
  ln: {distribution: log_normal, sigma: 2.0}
  qln: {distribution: q_log_normal, mu: 0.5, sigma: 1.0, q: 2}
  be: {distribution: beta, a: 2.0, b: 5.0}
  qbe: {distribution: q_beta, a: 1.0, b: 1.0, q: 0.1}
  'on': {value: 1}
  model:
    parameters:
      layers: {values: [1, 2]}
      head:
        parameters:
          width: {distribution: int_uniform, min: 8, max: 64}
# a comment below
run_cap: 10
"""


def parameters_of(text: str) -> Any:
    return yaml.safe_load(text)["parameters"]


# What the server tells the builder -----------------------------------------------------------


def test_it_reads_each_parameter_as_the_validator_does() -> None:
    data = builder_data(EVERYTHING)

    rows = {row["name"]: row for row in data["rows"]}
    assert data["readable"] and data["yaml"] is None
    assert list(rows)[:3] == ["c", "cat", "catp"]
    normalized = {
        p.name: p.distribution
        for p in sweep_config.normalize(yaml.safe_load(EVERYTHING)).parameters
    }
    for name, row in rows.items():
        if "group" not in row:
            assert row["distribution"] == normalized[name], name
    # Inferred where the text leaves it out, named where it names it.
    assert (rows["iu"]["explicit"], rows["qu"]["explicit"]) == (False, True)
    assert rows["cat"]["fields"] == {"values": "1, two, 3.5"}
    assert rows["u"]["fields"] == {"min": "0.0", "max": "0.5"}
    assert rows["luv"]["fields"] == {"min": "1.0e-05", "max": "0.1"}
    assert rows["luv"]["extra"] == [["grid_points", "7"]]
    assert rows["on"]["key"] == "'on'"
    head = rows["model"]["group"][1]
    assert head["name"] == "head" and head["group"][0]["fields"] == {"min": "8", "max": "64"}


def test_it_keeps_what_it_cannot_show_as_written() -> None:
    text = """\
method: grid
parameters:
  mixed: {min: 0, max: 0.5}
  bare: 3
  odd: {distribution: gaussian, mu: 0}
  extra: {values: [1], color: red}
"""
    rows = {row["name"]: row for row in builder_data(text)["rows"]}

    # min 0 with max 0.5 is ambiguous to the validator: no distribution is guessed.
    assert rows["mixed"]["distribution"] == ""
    assert rows["mixed"]["fields"] == {"min": "0", "max": "0.5"}
    assert rows["bare"]["written"] == "3"
    assert rows["odd"]["distribution"] == ""
    assert ["distribution", "gaussian"] in rows["odd"]["extra"]
    assert rows["extra"]["extra"] == [["color", "red"]]


def test_it_says_why_it_cannot_read_a_text() -> None:
    assert builder_data("parameters: [1") == {
        "readable": False,
        "reason": "line 1, column 15: expected ',' or ']', but got '<stream end>'",
    }
    assert builder_data("- a\n- b\n")["readable"] is False


def test_it_gives_a_json_config_as_yaml() -> None:
    text = json.dumps({"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1e-05}}})

    data = builder_data(text)

    assert yaml.safe_load(data["yaml"]) == json.loads(text)
    assert data["rows"][0]["fields"] == {"min": "0.0", "max": "1.0e-05"}


@pytest.mark.parametrize(
    "value",
    [0.0, 1e-05, 1e20, 7, True, None, "yes", "a: b", "1e-5", "line\nbreak", [1, "x"], {"k": [0.5]}],
)
def test_its_literals_read_back_as_the_same_value(value: Any) -> None:
    literal = yaml_literal(value)

    assert "\n" not in literal
    assert yaml.safe_load(f"key: {literal}")["key"] == value


def test_it_offers_every_distribution_once_with_its_own_fields() -> None:
    spec = builder_spec()

    offered = [kind for _, kinds in DISTRIBUTION_GROUPS for kind in kinds]
    assert sorted(offered) == sorted(sweep_config.DISTRIBUTIONS)
    assert set(DISTRIBUTION_HINTS) == set(sweep_config.DISTRIBUTIONS)
    fields = spec["distributions"]
    assert fields["constant"]["fields"] == ("value",)
    assert fields["categorical_w_probabilities"]["fields"] == ("values", "probabilities")
    assert fields["q_log_uniform_values"]["fields"] == ("min", "max", "q")
    assert fields["q_normal"]["fields"] == ("mu", "sigma", "q")
    assert fields["beta"]["fields"] == ("a", "b")
    assert fields["q_beta"]["placeholders"]["q"] == "1.0"


def test_the_check_brings_the_rows_of_the_text_it_checked(client: Client, project: Project) -> None:
    client.force_login(project.owner)
    text = "method: random\nparameters:\n  lr: {min: 0.1, max: 0.01}\n"

    response = client.post(URL, {"config_text": text}, headers=CHECK)

    content = response.content.decode()
    assert "parameters.lr.max</code>: must be greater than min (0.1)" in content
    data = json.loads(re.search(r'id="builder-data"[^>]*>(.*?)</script>', content, re.S)[1])  # type: ignore[index]
    assert data["rows"][0]["fields"] == {"min": "0.1", "max": "0.01"}
    assert not Sweep.objects.exists()


@pytest.mark.parametrize("template", CONFIG_TEMPLATES, ids=lambda t: t.key)
def test_each_template_creates_a_valid_sweep(
    client: Client, project: Project, template: Any
) -> None:
    client.force_login(project.owner)

    page = client.get(f"{URL}?template={template.key}")
    response = client.post(URL, {"config_text": template.text, "name": template.key})

    assert yaml.safe_load(template.text) == yaml.safe_load(
        page.context["form"]["config_text"].value()
    )
    assert response.status_code == 302, page.context["form"].problems
    sweep = Sweep.objects.get(name=template.key)
    assert sweep.config_text == template.text
    assert sweep.warnings == []


# In the browser ------------------------------------------------------------------------------


def watch_console(page: Any) -> list[str]:
    """Console errors and uncaught exceptions of the page, from now on."""
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def top_rows(page: Any) -> Any:
    return page.locator("#parameter-builder [data-builder-list] > .builder-row")


def own(row: Any, role: str) -> Any:
    """A row's own control (not one of its children's)."""
    return row.locator(f":scope > .builder-line [data-role={role}]")


def field(row: Any, key: str) -> Any:
    return row.locator(f":scope > .builder-fields [data-role=field-{key}]")


def text_of(page: Any) -> str:
    return str(page.locator("#id_config_text").input_value())


def wait_for_text(page: Any, check: Any) -> Any:
    """The config text, parsed, once `check` of it holds: polled with a deadline."""
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while True:
        parsed = yaml.safe_load(text_of(page))
        if check(parsed):
            return parsed
        assert time.monotonic() < deadline, f"the text never became as asked: {text_of(page)}"
        page.wait_for_timeout(50)


def wait_for_rows(page: Any, names: list[str]) -> None:
    """Until the builder's top rows are `names`, and it waits for no answer."""
    page.wait_for_function(
        """names => !document.querySelector("#parameter-builder.is-waiting")
            && JSON.stringify([...document.querySelectorAll(
                "[data-builder-list] > .builder-row > .builder-line [data-role=name]"
            )].map(input => input.value)) === JSON.stringify(names)""",
        arg=names,
        timeout=UI_TIMEOUT_MS,
    )


@pytest.mark.browser
def test_it_builds_a_config_row_by_row_and_creates_the_sweep(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    errors = watch_console(page)
    log_in(page, live_server.url, URL)
    rows = top_rows(page)
    expect(rows).to_have_count(4)  # the example's

    for _ in range(4):
        rows.first.locator(":scope > .builder-line [data-role=remove]").click()
    expect(page.locator("#id_config_text")).to_have_value(re.compile(r"^parameters: \{\}$", re.M))

    # The chooser shows each distribution's own fields, and only those.
    page.click("#builder-rows > .builder-actions [data-builder-add=param]")
    row = rows.last
    for kind, spec in builder_spec()["distributions"].items():
        own(row, "distribution").select_option(kind)
        expect(row.locator(".builder-field > span")).to_have_text(list(spec["fields"]))
        expect(row.locator(".builder-hint")).to_have_text(spec["hint"])
    own(row, "name").fill("lr")
    own(row, "distribution").select_option("log_uniform_values")
    field(row, "min").fill("1e-5")  # YAML would read this as a string: the builder writes 1.0e-5
    field(row, "max").fill("0.1")

    # A group, a parameter in it, and a group inside that.
    page.click("#builder-rows > .builder-actions [data-builder-add=group]")
    group = rows.last
    own(group, "name").fill("model")
    layers = group.locator(":scope > .builder-children > .builder-row").first
    own(layers, "name").fill("layers")
    own(layers, "distribution").select_option("int_uniform")
    field(layers, "min").fill("1")
    field(layers, "max").fill("4")
    group.locator(":scope > .builder-actions [data-builder-add=group]").click()
    inner = group.locator(":scope > .builder-children > .builder-group")
    own(inner, "name").fill("head")
    dropout = inner.locator(":scope > .builder-children > .builder-row").first
    own(dropout, "name").fill("dropout")
    own(dropout, "distribution").select_option("beta")
    field(dropout, "a").fill("2")
    field(dropout, "b").fill("5")

    page.click("#builder-rows > .builder-actions [data-builder-add=param]")
    batch = rows.last
    own(batch, "name").fill("batch")
    own(batch, "distribution").select_option("categorical")
    field(batch, "values").fill("16, 32")
    expect(page.locator("#config-problems")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    page.fill("#id_name", "built")
    page.click("text=Create sweep")

    expect(page.locator("h1")).to_have_text("built", timeout=UI_TIMEOUT_MS)
    sweep = Sweep.objects.get()
    params = {p.name: p for p in sweep_config.SweepConfig.from_dict(sweep.config).parameters}
    assert list(params) == ["lr", "model/layers", "model/head/dropout", "batch"]
    assert (params["lr"].distribution, params["lr"].min, params["lr"].max) == (
        "log_uniform_values",
        1e-5,
        0.1,
    )
    assert (params["model/layers"].distribution, params["model/layers"].max) == ("int_uniform", 4)
    assert (params["model/head/dropout"].a, params["model/head/dropout"].b) == (2.0, 5.0)
    assert params["batch"].values == (16, 32)
    # The rest of the text is as it was: its comments, method and early termination.
    assert sweep.config_text.startswith("# A W&B sweep config: paste yours unchanged.")
    assert "min: 1.0e-5" in sweep.config_text
    assert yaml.safe_load(sweep.config_text)["early_terminate"] == {
        "type": "hyperband",
        "min_iter": 3,
    }
    assert errors == []


@pytest.mark.browser
def test_it_follows_the_text_and_shows_its_problems(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    errors = watch_console(page)
    log_in(page, live_server.url, URL)
    rows = top_rows(page)

    page.fill("#id_config_text", EVERYTHING)

    expect(rows).to_have_count(20, timeout=UI_TIMEOUT_MS)
    qluv = rows.nth(9)
    expect(own(qluv, "name")).to_have_value("qluv")
    expect(own(qluv, "distribution")).to_have_value("q_log_uniform_values")
    expect(field(qluv, "min")).to_have_value("16")
    expect(rows.nth(7).locator(".builder-kept")).to_have_text("Kept as written: grid_points: 7")
    width = rows.last.locator(".builder-group .builder-row").first
    expect(own(width, "name")).to_have_value("width")
    expect(own(width, "distribution")).to_have_value("int_uniform")

    # One change in the rows changes that value alone; comments outside parameters stay.
    field(rows.nth(12), "sigma").fill("0.75")
    parsed = wait_for_text(page, lambda c: c["parameters"]["n"].get("sigma") == 0.75)
    expected = yaml.safe_load(EVERYTHING)
    expected["parameters"]["n"]["sigma"] = 0.75
    assert parsed == expected
    assert text_of(page).startswith("# a comment above\n")
    assert "# a comment below\nrun_cap: 10" in text_of(page)

    # A text that does not read: the rows wait for it, and say why.
    page.fill("#id_config_text", "parameters: [1")
    status = page.locator("#builder-status")
    expect(status).to_contain_text("line 1, column 15", timeout=UI_TIMEOUT_MS)
    expect(own(rows.first, "name")).to_be_disabled()

    # The check's problems appear under the rows they name.
    page.fill("#id_config_text", "method: random\nparameters:\n  lr: {min: 0.1, max: 0.01}\n")
    expect(rows.first.locator(".builder-problems")).to_contain_text(
        "parameters.lr.max: must be greater than min (0.1)", timeout=UI_TIMEOUT_MS
    )
    expect(own(rows.first, "name")).to_be_enabled()

    # A JSON config is shown too, and written back as YAML.
    config = {"method": "random", "parameters": {"lr": {"min": 0.0, "max": 0.5}}, "run_cap": 3}
    page.fill("#id_config_text", json.dumps(config))
    expect(field(rows.first, "max")).to_have_value("0.5", timeout=UI_TIMEOUT_MS)
    field(rows.first, "max").fill("0.25")
    parsed = wait_for_text(page, lambda c: c["parameters"]["lr"]["max"] == 0.25)
    assert parsed == {**config, "parameters": {"lr": {"min": 0.0, "max": 0.25}}}
    assert not text_of(page).lstrip().startswith("{")

    # A refused create brings the form back whole: its builder works as before.
    field(rows.first, "min").fill("0.5")
    page.click("text=Create sweep")
    expect(page.locator("#config-problems")).to_contain_text(
        "must be greater than min", timeout=UI_TIMEOUT_MS
    )
    field(rows.first, "max").fill("0.75")
    wait_for_text(page, lambda c: c["parameters"]["lr"] == {"min": 0.5, "max": 0.75})
    expect(page.locator("#config-problems")).to_have_count(0, timeout=UI_TIMEOUT_MS)
    assert not Sweep.objects.exists()
    assert errors == []


@pytest.mark.browser
def test_templates_fill_the_text_and_the_rows(
    page: Any, live_server: Any, transactional_db: None, project: Project
) -> None:
    errors = watch_console(page)
    log_in(page, live_server.url, URL)
    example = text_of(page)

    for template in CONFIG_TEMPLATES:
        page.click(f"[data-template={template.key}]")
        expect(page.locator("#id_config_text")).to_have_value(template.text)
        wait_for_rows(page, list(parameters_of(template.text)))
    page.click("#template-note button")
    expect(page.locator("#id_config_text")).to_have_value(CONFIG_TEMPLATES[-2].text)
    wait_for_rows(page, list(parameters_of(CONFIG_TEMPLATES[-2].text)))
    assert text_of(page) != example
    fits(page)
    shoot(page, "sweep-new-builder-1280x800.png")
    page.set_viewport_size({"width": 390, "height": 844})
    fits(page)
    shoot(page, "sweep-new-builder-390x844.png")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.fill("#id_name", "from-template")
    page.click("text=Create sweep")
    expect(page.locator("h1")).to_have_text("from-template", timeout=UI_TIMEOUT_MS)
    sweep = Sweep.objects.get()
    assert sweep.config_text == CONFIG_TEMPLATES[-2].text
    assert math.isclose(sweep.config["parameters"][0]["min"], 0.0001)
    assert errors == []
