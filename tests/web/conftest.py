import pytest


@pytest.fixture
def app_config(app_config, request):
    """The shared test configuration, plus per-test overrides given with
    ``@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)``."""
    return {**app_config, **getattr(request, "param", {})}
