# A package, so that pytest's module name here (vision.test_datasets) does not clash with
# tests/datasets/test_datasets.py.
