"""The benchmark harness behind `minnet-bench` (also `python -m minnet.bench`).

Structure, so later ops and models plug in without touching the driver:
  timing.py   median-of-repeats timing and minor-page-fault counting (the only clock)
  suites.py   the registry: op name -> function returning Case objects
  gemm.py     the GEMM cases (one file per kernel family)
  __main__.py the command line: --info, `kernels`, `train`
  _torch_worker.py  torch in a separate process with GLIBC_TUNABLES (--torch-nopf)
"""
