"""The exception hierarchy.  Everything dedupe raises on purpose derives from :class:`DedupeError`.

Backends (SQLite, Redis, Spark, model files) translate their own errors into these classes at the
boundary, so callers need one ``except DedupeError`` and the CLI can print a one-line message
instead of a traceback.
"""

from __future__ import annotations


class DedupeError(Exception):
    """Root of every error dedupe raises deliberately."""

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class InputError(DedupeError):
    """A document, file or record could not be read.

    ``source`` is the file (or ``<stdin>``) and ``line`` the 1-based line or record number, when known.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 hint: str | None = None):
        super().__init__(message, hint=hint)
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source if self.line is None else f"{self.source}:{self.line}"
            where += ": "
        return where + super().__str__()


class ConfigError(DedupeError):
    """Settings that are invalid or inconsistent with each other."""


class FingerprintMismatch(ConfigError):
    """A stored index, signature or model was made with other settings than the ones in use."""


class BackendError(DedupeError):
    """A storage backend (SQLite, Redis) failed; the original error is chained as ``__cause__``."""


class ModelError(DedupeError):
    """A model file is missing, corrupt, of an unknown version or made with other settings."""
