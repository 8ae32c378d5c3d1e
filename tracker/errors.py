"""Typed errors. The CLI turns each into one line `Error: ...` and exit code 1."""


class TrackerError(Exception):
    """Base class: the message is shown to the user as it is."""


class ConfigError(TrackerError):
    """The configuration file is missing or invalid."""


class CredentialError(TrackerError):
    """A credential needed by a source is missing or was refused."""


class WarehouseError(TrackerError):
    """The warehouse could not be opened or written."""


class WarehouseLocked(WarehouseError):
    """Another process holds the warehouse."""


class SourceError(TrackerError):
    """A source failed (API error, malformed response, ...)."""


class ImportFormatError(TrackerError):
    """An archive could not be read in the requested format."""
