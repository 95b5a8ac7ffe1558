"""The one `engine` fixture (python | duckdb | spark) for this folder's vignettes."""

from tests.engine_fixture import engine  # noqa: F401 - the shared fixture
