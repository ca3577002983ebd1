# Sourced by scripts/test and scripts/demo: installs what vlanmac's scripts
# need on a fresh Debian machine (as root), only what is missing.

say() { printf '\n== %s\n' "$*"; }

ensure_deps() {
  local apt=()
  command -v ip >/dev/null || apt+=(iproute2)
  command -v qemu-system-x86_64 >/dev/null || apt+=(qemu-system-x86)
  ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || apt+=(linux-image-amd64)
  [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || apt+=(busybox-static)
  [ -x /usr/sbin/dockerd ] || apt+=(docker.io)
  command -v python3 >/dev/null || apt+=(python3 python3-pip)
  if [ ${#apt[@]} -gt 0 ]; then
    say "installing ${apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q "${apt[@]}" || return 1
  fi
  if ! command -v vng >/dev/null; then
    say "installing virtme-ng"
    python3 -m pip install -q virtme-ng || return 1
    hash -r
  fi
  command -v cargo >/dev/null || { echo "cargo not found" >&2; return 1; }
}

# Whether the running kernel has 802.1Q VLANs (loading the module if it can).
kernel_has_8021q() {
  [ -d /proc/net/vlan ] && return 0
  modprobe 8021q 2>/dev/null
  [ -d /proc/net/vlan ]
}
