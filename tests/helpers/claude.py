"""A ClaudeModel on a local Messages API, and the leads the Claude tests ask about."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anthropic
import pandas as pd

from leadrouter.classify.claude import ClaudeModel
from localapi.anthropic import API_KEY, MessagesAPI, serve

MARGIN_S = 0.5  # what classify may take past its deadline (thread hand-off, building the frame)


@contextmanager
def claude(
    api: MessagesAPI, max_retries: int = 2, timeout_s: float = 10, **kwargs: object
) -> Iterator[ClaudeModel]:
    """A ClaudeModel whose SDK client talks to `api` on 127.0.0.1."""
    server = serve(api)
    try:
        client = anthropic.Anthropic(
            api_key=API_KEY, base_url=server.url, max_retries=max_retries, timeout=timeout_s
        )
        yield ClaudeModel(client, **kwargs)
    finally:
        server.stop()


def leads(*rows: dict) -> pd.DataFrame:
    base = {
        "last_name": "Doe",
        "company": "Acme",
        "country": "US",
        "region": "NA",
        "lead_source": "contact_form",
    }
    frame = pd.DataFrame([base | r for r in rows])
    return frame.set_index(pd.Index([f"L{i}" for i in range(len(frame))]))


CTO = {"first_name": "Ana", "title": "CTO", "seniority": "C-level", "employees": 1200,
       "message": "We want a demo before we replace our current tool."}  # fmt: skip
MANAGER = {"first_name": "Ben", "title": "Operations Manager", "seniority": "Manager", "employees": 80,
           "message": "Can you send pricing for 25 seats?"}  # fmt: skip
INTERN = {"first_name": "Cy", "title": "Marketing Intern", "seniority": "Student", "employees": 5000,
          "message": "Requesting pricing for my manager."}  # fmt: skip
