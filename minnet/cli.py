"""The ``minnet`` command (also ``python -m minnet``)::

    minnet demo [--epochs N] [--threads N]      train the lecture CNN on real images, now
    minnet examples                             list the course examples
    minnet run NAME [--quick] [--epochs N] [--threads N] [--seed N] [--out-dir DIR]
               [--ranks N]                      (--ranks: on N processes, through mpirun)
    minnet notebook NAME [--out PATH] [--quick] write the example as a Jupyter notebook
    minnet info                                 build and machine information

Wrong names or values give one line on stderr and exit code 2 (argparse's convention), before
any work starts; that includes an --out whose folder does not exist. Missing or corrupt data,
or a file that cannot be written after all, gives one line and exit code 1.
"""

import argparse
import sys

__all__ = ["main"]


def _examples():
    from minnet.examples import EXAMPLES

    return EXAMPLES


def _example_name(text):
    names = _examples()
    if text not in names:
        raise argparse.ArgumentTypeError(
            f"unknown example {text!r} (choose from {', '.join(names)}; `minnet examples` "
            f"lists them)"
        )
    return text


def build_parser():
    import textwrap

    from minnet._argparse import output_file
    from minnet.examples._common import (
        ArgumentParser,
        add_run_options,
        nonnegative_int,
        positive_int,
        thread_count,
    )

    names = ", ".join(_examples())
    p = ArgumentParser(
        prog="minnet",
        description="minnet: the course's command line.",
        epilog="\n".join(
            textwrap.wrap(names, width=88, initial_indent="examples: ", subsequent_indent=" " * 10)
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)

    d = sub.add_parser(
        "demo",
        help="train the lecture CNN on the embedded Fashion-MNIST "
        "subset and print its test accuracy",
    )
    d.add_argument(
        "--epochs", type=positive_int, default=None, help="training epochs (default 20)"
    )
    d.add_argument(
        "--threads",
        type=thread_count,
        default=None,
        help="kernel threads (default: OMP_NUM_THREADS or the cores)",
    )
    d.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    d.add_argument("--quick", action="store_true", help="2 epochs on 2,000 images")
    d.add_argument(
        "--full", action="store_true", help="use the full Fashion-MNIST when its files are found"
    )

    sub.add_parser("examples", help="list the course examples")

    r = sub.add_parser("run", help="run one example (see `minnet examples`)")
    r.add_argument("name", type=_example_name, metavar="NAME", help=f"one of: {names}")
    add_run_options(r)
    r.add_argument(
        "--ranks",
        type=positive_int,
        default=None,
        help="run a distributed example (ddp_mnist) on N local processes: calls mpirun -n N "
        "(needs Open MPI and mpi4py)",
    )

    n = sub.add_parser("notebook", help="write an example as a Jupyter notebook")
    n.add_argument("name", type=_example_name, metavar="NAME", help=f"one of: {names}")
    n.add_argument(
        "--out",
        type=output_file("NAME.ipynb", folder_ok=True),
        default=None,
        metavar="PATH",
        help="the .ipynb to write, or an existing folder to write "
        "NAME.ipynb into (default: NAME.ipynb here)",
    )
    n.add_argument("--quick", action="store_true", help="with quick = True in its first cell")

    sub.add_parser("info", help="build information (compiler, ISA, threads)")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # plain `minnet`: say what it can do
        parser.print_help()
        return 0
    if args.command == "examples":
        names = _examples()
        width = max(map(len, names))
        for name, text in names.items():
            print(f"{name:<{width}}  {text}")
        print("\nrun one with: minnet run NAME [--quick]")
        return 0
    if args.command == "info":
        import minnet

        for k, v in minnet.build_info().items():
            print(f"{k}: {v}")
        return 0

    from minnet.examples._common import run_cli

    if args.command == "demo":
        from minnet.demo import run

        opts = {k: getattr(args, k) for k in ("epochs", "threads", "seed", "quick", "full")}
        return run_cli(run, opts, "minnet demo")
    if args.command == "run":
        from minnet.examples import load

        opts = {k: v for k, v in vars(args).items() if k not in ("command", "name", "ranks")}
        if args.ranks is not None:
            return _run_ranks(args.name, args.ranks, opts)
        return run_cli(load(args.name).run, opts, f"minnet run {args.name}")
    if args.command == "notebook":
        from minnet.examples._notebook import write_notebook

        try:
            out = write_notebook(args.name, args.out or f"{args.name}.ipynb", quick=args.quick)
        except (OSError, ImportError) as e:
            print(f"minnet notebook: error: {e}", file=sys.stderr)
            return 1
        print(f"wrote {out}")
        return 0
    raise AssertionError(args.command)


def _run_ranks(name, ranks, opts):
    """``mpirun -n ranks python -m minnet.examples.NAME OPTIONS``; its exit code."""
    import subprocess

    from minnet.distributed.launch import module_args, mpirun_command
    from minnet.examples import DISTRIBUTED

    prog = f"minnet run {name}"
    if name not in DISTRIBUTED:
        print(
            f"{prog}: error: --ranks: {name} is not a distributed example (those are: "
            f"{', '.join(DISTRIBUTED)})",
            file=sys.stderr,
        )
        return 2
    args = []
    for key, value in opts.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not None and value is not False:
            args += [flag, str(value)]
    try:
        cmd = mpirun_command(ranks, module_args(f"minnet.examples.{name}", args))
    except FileNotFoundError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    shown = cmd[: -len(args) - 3] + ["-m", f"minnet.examples.{name}"] + args
    print(" ".join(shown), file=sys.stderr, flush=True)
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
