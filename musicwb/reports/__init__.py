"""The batch runner: papermill runs the notebooks, nbconvert writes offline HTML reports."""

from musicwb.reports.batch import *  # noqa: F403
from musicwb.reports.batch import (  # noqa: F401
    NOTEBOOKS_DIR,
    OUTPUT_PARAMETER,
    RUNNER_PARAMETERS,
    STORE_PARAMETER,
    TEMPLATES_DIR,
    __all__,
)
