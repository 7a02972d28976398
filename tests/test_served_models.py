"""The transcriber resolves only the models the deployment serves (the gateway checks the same list)."""

import pytest

from voxledger.runtime.settings import served_models
from voxledger.transcriber.adapters.model import ModelCache, ModelUnavailable, resolve_model

SERVED = served_models("tiny.en,base=/srv/models/base")


def test_a_served_name_resolves_to_its_configured_path_or_the_bundled_model():
    assert resolve_model("base", SERVED) == ("/srv/models/base", False)
    target, downloadable = resolve_model("tiny.en", SERVED)
    assert not downloadable and target != "tiny.en", "the bundled model is loaded from its package"


@pytest.mark.parametrize("name", ["large-v3", "/srv/models/base", "../../etc", "tiny.en\x00"])
def test_any_other_name_or_a_path_from_a_job_is_refused(name):
    with pytest.raises(ModelUnavailable):
        resolve_model(name, SERVED)


def test_the_cache_refuses_an_unserved_model_without_loading_anything():
    cache = ModelCache("cpu", "int8", 1, allow_download=True, served=SERVED)
    with pytest.raises(ModelUnavailable, match="not served"):
        cache.get("large-v3")
    assert not cache.is_loaded("large-v3")
