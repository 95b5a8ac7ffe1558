from tests.conftest_spark import spark  # noqa: F401 - the shared session fixture
