"""The errors a CRM adapter raises of its own (a vendor client's errors pass through as they are).

Each also derives from the built-in error it replaced, so a caller catching that one still catches it.
"""

from __future__ import annotations


class CRMError(Exception):
    """A CRM call failed in a way the adapter itself detected."""


class LoginRefused(CRMError, PermissionError):
    """The CRM refused the credentials: retrying cannot help. The message names the problem, never a secret."""


class LoginUnavailable(CRMError, ConnectionError):
    """The CRM's login service is busy or down (429, 5xx): transient."""


class RowsLocked(CRMError):
    """Records of a write failed on a row lock held by another transaction: the same write succeeds later."""


class UnexpectedReply(CRMError, ValueError):
    """The CRM answered in a shape its documentation rules out (e.g. fewer results than records sent)."""


class SearchStuck(CRMError, RuntimeError):
    """A search would ask for the same page forever: the CRM served records that its own filter then misses."""
