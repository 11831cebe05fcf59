"""Command-line pieces shared by ``minnet``, ``minnet-bench`` and the examples: an argparse
parser whose errors are one line, and argument types whose messages say what to change.

Every wrong value is caught while the command line is parsed, before any work starts, and
ends as one line on stderr, ``prog: error: argument --threads: ... (see prog --help)``, with
exit code 2 (argparse's convention), never a traceback.
"""

import argparse
import os
import re

__all__ = [
    "ArgumentParser",
    "positive_int",
    "nonnegative_int",
    "thread_count",
    "thread_counts",
    "names_in",
    "output_file",
    "output_folder",
]


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error: ``prog: error: what (see prog --help)``, exit code 2,
    instead of the usage block followed by the error; subcommands inherit it when passed as
    ``add_subparsers(parser_class=ArgumentParser)``.

    With subcommands, an option written on the wrong side of the command gets a line saying
    where it belongs (``minnet-bench --op gemm kernels``: ``--op`` is an option of
    ``kernels``). An option defined both on this parser and on some subcommands is shared:
    it may come before or after the command, and before a command that lacks it is an
    error. The caller gives the subcommand's copy ``default=argparse.SUPPRESS`` so that a
    value written before the command survives the subcommand's parse."""

    def error(self, message):
        # argparse's "expected one argument" also covers a value starting with '-'
        # (--threads -1,2), which it takes for an option
        message = re.sub(
            r"^(argument (\S+?)(?:/\S+)?): expected one argument$",
            r"\1: expected a value after it (write \2=VALUE for a value that "
            r"starts with '-')",
            message,
        )
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_known_args(self, args=None, namespace=None):
        import sys

        args = sys.argv[1:] if args is None else list(args)
        self._check_placement(args)
        return super().parse_known_args(args, namespace)

    def _commands(self):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices
        return None

    def _check_placement(self, argv):
        """Errors for options on the wrong side of the subcommand (see the class doc)."""
        commands = self._commands()
        if not commands:
            return
        current, before = self, []
        i = 0
        while i < len(argv):
            token = argv[i]
            if token == "--":
                return
            if token.startswith("-") and len(token) > 1 and not _NUMBER.match(token):
                action = _option(current, token)
                if action is None:
                    self._misplaced(current, token, commands)
                    return  # unknown everywhere: argparse says so
                if current is self:
                    before.append(token)
                if action.nargs is None and "=" not in token:
                    i += 1  # skip the option's value
            elif current is self:
                if token not in commands:
                    return  # not a command: argparse lists the commands
                current = commands[token]
                for tok in before:
                    shared = any(_option(p, tok) for p in commands.values())
                    if shared and _option(current, tok) is None:
                        self._misplaced(current, tok, commands)
            i += 1

    def _misplaced(self, current, token, commands):
        name = token.split("=", 1)[0]
        others = [p for p in commands.values() if p is not current]
        # the commands that spell it out, else those that take it as an abbreviation
        owners = [p for p in others if name in p._option_string_actions] or [
            p for p in others if _option(p, name)
        ]
        if current is not self and _option(self, name) and not owners:
            current.error(
                f"argument {name}: an option of {self.prog} itself; write it "
                f"before the command: {self.prog} {name} ... "
                f"{current.prog.split()[-1]} ..."
            )
        if not owners:
            return
        where = ", ".join(p.prog for p in owners)
        if current is self:
            self.error(
                f"argument {name}: an option of {where}; write it after the command: "
                f"{owners[0].prog} {name} ..."
            )
        current.error(
            f"argument {name}: {current.prog} has no such option (it is an option of {where})"
        )


_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # argparse's test for a negative number


def _option(parser, token):
    """The action of ``parser`` that ``token`` (``--name`` or ``--name=value``) names, exactly
    or as an abbreviation when that is allowed; None when it names none."""
    name = token.split("=", 1)[0]
    actions = parser._option_string_actions
    if name in actions:
        return actions[name]
    if parser.allow_abbrev and name.startswith("--"):
        hits = [a for s, a in actions.items() if s.startswith(name)]
        if hits:
            return hits[0]  # an ambiguous abbreviation is argparse's to report
    return None


def _int_at_least(minimum, what, maximum=None):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    parse.__name__ = parse.__qualname__ = what.replace(" ", "_").replace(">=_", "ge")
    return parse


positive_int = _int_at_least(1, "a positive integer")
positive_int.__doc__ = "argparse type: an integer >= 1, with a one-line message otherwise."
nonnegative_int = _int_at_least(0, "an integer >= 0")
nonnegative_int.__doc__ = "argparse type: an integer >= 0, with a one-line message otherwise."


def _max_threads():
    from minnet._config import MAX_THREADS

    return MAX_THREADS


def thread_count(text):
    """argparse type: one thread count, 1 to minnet's MAX_THREADS."""
    top = _max_threads()
    return _int_at_least(1, f"a positive integer up to {top} (a thread count)", top)(text)


def thread_counts(text):
    """argparse type: comma-separated thread counts, ``"1,2"`` -> ``[1, 2]``, each 1 to
    minnet's MAX_THREADS."""
    top = _max_threads()
    items = [t.strip() for t in text.split(",")]
    if "" in items:
        raise argparse.ArgumentTypeError(
            f"expected thread counts separated by commas, such as 1,2, got {text!r}"
        )
    counts = []
    for t in items:
        try:
            n = int(t)
        except ValueError:
            n = None
        if n is None or not 1 <= n <= top:
            within = f" in {text!r}" if len(items) > 1 else ""
            raise argparse.ArgumentTypeError(
                f"thread counts are positive integers up to {top}, got {t!r}{within} (e.g. 1,2)"
            )
        counts.append(n)
    return counts


def names_in(registry, what, all_name="all"):
    """An argparse type for comma-separated names registered in ``registry`` (a dict, read
    when a value is parsed) or ``all_name`` alone: returns the list of names, repeats
    dropped. A wrong name's message lists the known ones."""

    def parse(text):
        known = ", ".join(registry) + (f" (or {all_name})" if all_name else "")
        if all_name and text.strip() == all_name:
            return list(registry)
        items = [t.strip() for t in text.split(",")]
        if "" in items:
            raise argparse.ArgumentTypeError(
                f"expected {what} names separated by commas, got {text!r}; known: {known}"
            )
        for t in items:
            if t not in registry:
                raise argparse.ArgumentTypeError(f"unknown {what} {t!r}; known: {known}")
        return list(dict.fromkeys(items))

    parse.__name__ = parse.__qualname__ = f"{what.replace(' ', '_')}_names"
    return parse


def output_file(example, folder_ok=False):
    """An argparse type for a file to write: its folder must exist and be writable, checked
    before any work starts. An existing folder is refused (its message suggests
    ``folder/example``), or with ``folder_ok`` accepted as is (the caller puts a file in it).
    Returns the text unchanged."""

    def parse(text):
        if not text.strip():
            raise argparse.ArgumentTypeError(
                f"expected a file name such as {example}, got {text!r}"
            )
        if os.path.isdir(text):
            if folder_ok:
                _check_writable(text)
                return text
            raise argparse.ArgumentTypeError(
                f"{text!r} is a folder; give a file name, e.g. {os.path.join(text, example)}"
            )
        folder = os.path.dirname(text) or "."
        if not os.path.isdir(folder):
            raise argparse.ArgumentTypeError(
                f"folder {folder!r} does not exist (create it first, or choose a file in an "
                f"existing folder)"
                if not os.path.exists(folder)
                else f"{folder!r} is not a folder"
            )
        _check_writable(folder)
        return text

    parse.__name__ = parse.__qualname__ = "output_file"
    return parse


def output_folder(text):
    """argparse type: a folder to write files into; it may not exist yet (it is created),
    but no part of it may be a file, and the nearest existing folder must be writable."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a folder name, got {text!r}")
    path = os.path.abspath(text)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    if not os.path.isdir(path):
        raise argparse.ArgumentTypeError(
            f"{path!r} is a file, not a folder; choose another folder"
        )
    _check_writable(path)
    return text


def _check_writable(folder):
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"folder {folder!r} is not writable; choose another")
