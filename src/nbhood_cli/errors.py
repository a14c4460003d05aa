"""Errors a user can cause, each carrying one line that says what is wrong and what to do."""


class NbhoodError(Exception):
    """A problem with the user's input or options: reported in one line, exit status 2."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = " ".join(message.split())  # one line, always


def where(path, detail: str | None = None) -> str:
    """The ``file[: detail]`` prefix every message starts with."""
    return f"{path}: {detail}" if detail else str(path)
