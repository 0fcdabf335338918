"""leadrouter: a self-hosted inbound lead router. The core package; it never imports Prefect."""

import pandas as pd

# pyarrow is installed for the rules' regex engine; that must not silently switch every "string" column of the
# pipeline to Arrow storage, whose null handling differs (the rules ask for Arrow strings where they want them)
pd.set_option("mode.string_storage", "python")

__version__ = "0.1.0"
