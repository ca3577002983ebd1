# Sourced by scripts/test and scripts/demo: installs what vlanmac's scripts
# need on a fresh Debian machine (as root), only what is missing.

# A section heading, with the time since the script started (bash's SECONDS).
say() { printf '\n== %s  [%d:%02d]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

ensure_deps() {
  local apt=()
  command -v ip >/dev/null || apt+=(iproute2)
  command -v qemu-system-x86_64 >/dev/null || apt+=(qemu-system-x86)
  debian_kernel 6.1 >/dev/null || apt+=(linux-image-amd64)
  debian_kernel 6.12 >/dev/null || apt+=(linux-image-6.12-amd64)
  command -v setpriv >/dev/null || apt+=(util-linux)
  command -v ping >/dev/null || apt+=(iputils-ping)
  # The reference for verify's mesh pings (benches/verify.rs).
  command -v fping >/dev/null || apt+=(fping)
  [ -x /usr/lib/cni/macvlan ] && [ -x /usr/lib/cni/host-local ] || apt+=(containernetworking-plugins)
  [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || apt+=(busybox-static)
  [ -x /usr/sbin/dockerd ] || apt+=(docker.io)
  # The tools that check vlanmac's outputs: netplan generate, nmcli
  # --offline (NetworkManager 1.42), the shells of the completion scripts,
  # man for the manual pages, openssl for the Docker TLS certificates.
  command -v zsh >/dev/null || apt+=(zsh)
  command -v fish >/dev/null || apt+=(fish)
  command -v man >/dev/null || apt+=(man-db)
  command -v openssl >/dev/null || apt+=(openssl)
  command -v systemd-analyze >/dev/null || apt+=(systemd)
  # netavark 2.1.0 is built from its crate (protoc for its build script);
  # its own bats tests run with bats and jq.
  command -v protoc >/dev/null || apt+=(protobuf-compiler)
  command -v bats >/dev/null || apt+=(bats)
  command -v jq >/dev/null || apt+=(jq)
  # The DHCP client's tests serve leases with Debian's dnsmasq; its bench
  # compares it with dhclient (and busybox's udhcpc, above).
  [ -x /usr/sbin/dnsmasq ] || apt+=(dnsmasq-base)
  command -v dhclient >/dev/null || apt+=(isc-dhcp-client)
  # podman (CNI backend) and runc run the CNI plugin's podman test; without
  # their recommends (no rootless networking stack, no extra runtimes).
  local bare=()
  [ -x /usr/bin/podman ] || bare+=(podman)
  [ -x /usr/sbin/runc ] || bare+=(runc)
  # Without recommends: no daemons beyond what the packages need (nothing
  # is started without systemd anyway).
  command -v netplan >/dev/null || bare+=(netplan.io)
  command -v nmcli >/dev/null || bare+=(network-manager)
  command -v python3 >/dev/null || apt+=(python3 python3-pip)
  if [ ${#apt[@]} -gt 0 ]; then
    say "installing ${apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q "${apt[@]}" || return 1
  fi
  if [ ${#bare[@]} -gt 0 ]; then
    say "installing ${bare[*]} (without recommends)"
    export DEBIAN_FRONTEND=noninteractive
    { [ ${#apt[@]} -gt 0 ] || apt-get update -q; } &&
      apt-get install -y -q --no-install-recommends "${bare[@]}" || return 1
  fi
  if ! command -v vng >/dev/null; then
    say "installing virtme-ng"
    python3 -m pip install -q virtme-ng || return 1
    hash -r
  fi
  command -v cargo >/dev/null || { echo "cargo not found" >&2; return 1; }
}

# netavark 2.1.0 (bin/netavark) and a copy of its crate's test/ folder in
# target/netavark, where vlanmac-netavark's tests look; built once.
build_netavark() {
  local dir=target/netavark src
  src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/netavark-2.1.0 2>/dev/null | head -n 1)
  if [ ! -x "$dir/bin/netavark" ] || [ -z "$src" ]; then
    cargo install -q --debug --locked --force --root "$dir" netavark@2.1.0 || return 1
    src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/netavark-2.1.0 2>/dev/null | head -n 1)
  fi
  [ -n "$src" ] || return 1
  rm -rf "$dir/test" && cp -a "$src/test" "$dir/test"
}

# The newest installed Debian kernel image of series $1 (6.1: Debian 12's
# own; 6.12: Debian 13's, from bookworm's security updates).
debian_kernel() {
  local k
  k=$(ls -1 /boot/vmlinuz-"$1".*-amd64 2>/dev/null | sort -V | tail -n 1)
  [ -n "$k" ] && echo "$k"
}

# Whether the running kernel has 802.1Q VLANs (loading the module if it can).
kernel_has_8021q() {
  [ -d /proc/net/vlan ] && return 0
  modprobe 8021q 2>/dev/null
  [ -d /proc/net/vlan ]
}
