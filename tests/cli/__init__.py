"""Tests of the ``kazi`` command line: worker, phone and dev."""
