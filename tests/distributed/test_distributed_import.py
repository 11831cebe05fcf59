"""minnet.distributed without MPI: importing minnet never loads mpi4py, and using the
collectives without it raises an ImportError that names what to install."""

import textwrap

from tests_helpers_mpi import env_with_this_minnet
from tests_helpers_run import run_python


def test_importing_minnet_does_not_load_mpi():
    out = run_python(
        "-c",
        "import sys, minnet, minnet.distributed, minnet.nn.parallel; "
        "print('mpi4py' in sys.modules)",
        env=env_with_this_minnet(),
    ).stdout
    assert out.strip() == "False"


def test_without_mpi4py_the_error_names_the_extra_and_the_packages():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["mpi4py"] = None        # as if it were not installed
        import minnet.distributed as dist
        print(dist.is_available() is False)
        for call in (dist.init, dist.get_rank, lambda: dist.all_reduce(minnet.ones(2))):
            try:
                call()
            except ImportError as e:
                print(e)
        """
    ).replace("import minnet.distributed as dist", "import minnet, minnet.distributed as dist")
    lines = run_python("-c", code, env=env_with_this_minnet()).stdout.splitlines()
    assert lines[0] == "True"
    assert len(lines) == 4
    for msg in lines[1:]:
        assert 'pip install "minnet-nn[mpi]"' in msg
        assert "apt-get install openmpi-bin libopenmpi-dev" in msg
