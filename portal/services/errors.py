class DomainError(Exception):
    """A rule refused the action. ``message`` is written for the person who tried it;
    ``field`` names the form field it belongs beside, when there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
