"""Command-line pieces shared by ``minnet``, ``minnet-bench`` and the examples: an argparse
parser whose errors are one line, and integer argument types with one-line messages."""
import argparse

__all__ = ["ArgumentParser", "positive_int", "nonnegative_int"]


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error: ``prog: error: what (see prog --help)``, exit code 2,
    instead of the usage block followed by the error; subcommands inherit it when passed as
    ``add_subparsers(parser_class=ArgumentParser)``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(minimum, what):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    parse.__name__ = parse.__qualname__ = what.replace(" ", "_").replace(">=_", "ge")
    return parse


positive_int = _int_at_least(1, "a positive integer")
positive_int.__doc__ = "argparse type: an integer >= 1, with a one-line message otherwise."
nonnegative_int = _int_at_least(0, "an integer >= 0")
nonnegative_int.__doc__ = "argparse type: an integer >= 0, with a one-line message otherwise."
