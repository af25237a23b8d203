"""The config: item and attribute access, nested too, and changes reach the server."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
import sweeptracker_client as st
from sweeptracker_client import Api, Config


def test_it_reads_and_sets_by_attribute_and_item() -> None:
    config = Config({"lr": 0.1, "model": {"layers": 3, "act": {"name": "relu"}}})

    assert config.lr == config["lr"] == 0.1
    assert config.model.layers == config["model"]["layers"] == 3
    assert config.model.act.name == "relu"
    config.batch = 32
    config["epochs"] = 10
    config.model.layers = 4
    config.model["dropout"] = 0.5
    assert config.as_dict() == {
        "lr": 0.1,
        "model": {"layers": 4, "act": {"name": "relu"}, "dropout": 0.5},
        "batch": 32,
        "epochs": 10,
    }
    assert dict(config)["batch"] == 32
    assert "epochs" in config and len(config) == 4
    with pytest.raises(AttributeError, match="missing"):
        _ = config.missing
    with pytest.raises(KeyError):
        _ = config["missing"]


def test_it_takes_namespaces_numpy_and_paths() -> None:
    config = Config(Namespace(lr=np.float64(0.5), sizes=np.array([1, 2]), data=Path("/data")))
    config.setdefaults({"lr": 9.0, "seed": 1})

    assert config.as_dict() == {"lr": 0.5, "sizes": [1, 2], "data": "/data", "seed": 1}


def test_it_refuses_values_that_cannot_be_stored() -> None:
    config = Config()
    with pytest.raises(TypeError, match="optimizer"):
        config.optimizer = object()


def test_it_sends_the_config_and_its_changes(client_env: str) -> None:
    run = st.init(config={"lr": 0.1, "model": {"layers": 3}})
    assert st.config is run.config
    st.config.update({"batch": 64})
    run.config.model.layers = 5
    run.config["nan"] = float("nan")
    run.finish()

    with Api() as api:
        config = api.run(run.id).config
    assert config["nan"] != config["nan"]
    del config["nan"]
    assert config == {"lr": 0.1, "model": {"layers": 5}, "batch": 64}
