"""SOQL checked against the describe schemas (localapi.sobjects) and translated into SQLite: `lexer` (tokens,
literals, Salesforce's error codes), `parser` (SELECT … ORDER BY), `where` (conditions), `dates` (date literals)."""

from localapi.soql.lexer import QueryError, Translated, tokens, unescape
from localapi.soql.parser import translate

__all__ = ["QueryError", "Translated", "tokens", "translate", "unescape"]
