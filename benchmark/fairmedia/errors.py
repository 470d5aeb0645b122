"""The one exception type for bad user input.

Raise ``UserError`` with a message that names the file, row or field and what was expected;
the CLI prints it without a traceback and exits with status 2.
"""


class UserError(Exception):
    """Bad input from the user (config, files, arguments): printed as a one-paragraph message."""
