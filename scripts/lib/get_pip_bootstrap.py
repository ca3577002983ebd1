"""Stands in for pip's get-pip.py bootstrap script when ansible-test makes
its sanity virtual environments (without pip) on a machine that cannot reach
ci-files.testing.ansible.com, where ansible-test downloads that script from.
ansible-test runs the cached script as `python get_pip_X_Y.py pip==X.Y
[--no-setuptools] [--no-wheel] [pip options]`; this does the same with the
interpreter's own ensurepip and then pip from the package index.
scripts/lib/ansible_sanity.sh copies it into ansible-test's cache."""

import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", *args])
