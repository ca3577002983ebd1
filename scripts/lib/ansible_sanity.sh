# Sourced by scripts/test: `ansible_sanity VENV LOG` runs `ansible-test
# sanity --python 3.11` on the collection vlanmac.net (the tests that need
# no container) with ansible-core 2.19 from VENV, and prints its last line.
ansible_sanity() {
  local venv log=$2 root
  venv=$(realpath -m "$1")
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  [ -x "$venv/bin/ansible-test" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "ansible-core>=2.19,<2.20"; } || return 1
  # ansible-test bootstraps pip in each sanity venv from a script it
  # downloads; where that host is unreachable, the stand-in does the same.
  local v
  v=$(grep -ohP "pip='\K[0-9.]+" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n 1)
  [ -n "$v" ] || return 1
  mkdir -p ~/.ansible/test/cache
  cp "$root/scripts/lib/get_pip_bootstrap.py" ~/.ansible/test/cache/get_pip_${v//./_}.py
  (cd "$root/vlanmac-py/ansible_collections/vlanmac/net" && rm -rf tests/output &&
    PATH="$venv/bin:$PATH" timeout 1500 ansible-test sanity --local --python 3.11 --requirements --color no) > "$log" 2>&1
}
