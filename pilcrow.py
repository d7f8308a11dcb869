"""`pilcrow COMMAND ...`: every command line of the project behind one name.

    pilcrow ask "what did Zhejiang officials say about hukou?"     # python -m qa ask ...
    pilcrow search "84 percent" --k 5                              # python -m qa search ...
    pilcrow build data/cables --index var/mine                     # python -m embeddings build ...
    pilcrow parse data/html --json                                 # python -m embeddings parse ...
    pilcrow info --index var/mine                                  # python -m embeddings info ...
    pilcrow eval --generator extractive                            # python -m eval ...
    pilcrow serve --port 8080                                      # python app.py ...
    pilcrow settings                                               # python -m qa settings

Each command takes the options of the module it runs (`pilcrow ask --help`).
"""
from __future__ import annotations

import sys
from collections.abc import Callable


def _qa(argv: list[str]) -> int:
    from qa.__main__ import main
    return main(argv)


def _embeddings(argv: list[str]) -> int:
    from embeddings.__main__ import main
    return main(argv)


def _eval(argv: list[str]) -> int:
    from eval.__main__ import main
    return main(argv)


def _serve(argv: list[str]) -> int:
    from app import main
    return main(argv)


# command -> (runner, whether the command name is passed on as the runner's own subcommand)
COMMANDS: dict[str, tuple[Callable[[list[str]], int], bool]] = {
    "ask": (_qa, True), "search": (_qa, True), "settings": (_qa, True),
    "build": (_embeddings, True), "parse": (_embeddings, True), "info": (_embeddings, True),
    "eval": (_eval, False), "serve": (_serve, False),
}


def main(argv: list[str] | None = None) -> int:
    """Run one command; 2 with the usage for an unknown one.

    >>> main(["nope"])
    2
    """
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print(f"usage: pilcrow {{{','.join(COMMANDS)}}} ...\n\n{__doc__}", file=sys.stderr)
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    run, passed_on = COMMANDS[args[0]]
    return run(args if passed_on else args[1:])


if __name__ == "__main__":
    sys.exit(main())
