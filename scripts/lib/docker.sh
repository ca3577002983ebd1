# Sourced by scripts/test (and, inside the kernel VM, by vm-guest-tests):
# a private Docker engine for the tests, living in a network namespace of
# its own so that its macvlan parents and containers never touch the
# machine's namespace; a busybox test image built without a registry;
# stopped by the PID it was started with.
#
#   docker_start DIR [STORAGE [no-tls]]
#                               -> exports VLANMAC_DOCKER_HOST, VLANMAC_DOCKER_NETNS, VLANMAC_DOCKER_IMAGE,
#                                  VLANMAC_DOCKER_TLS_HOST, VLANMAC_DOCKER_TLS_DIR
#   docker_stop DIR
#
# Besides its Unix socket, the engine listens with TLS (--tlsverify, client
# certificates required) on 127.0.0.1:2376 inside its namespace, with a CA,
# server and client certificate made here (DIR/tls/{ca,cert,key}.pem are
# the client's, as the docker CLI's DOCKER_CERT_PATH expects them). With
# no-tls it does not (the kernel VM: only the Python tests on the host use
# the TLS listener, and three RSA keys take long under emulation).

DOCKER_CLI=/usr/bin/docker   # Debian's client, matching its daemon

docker_start() {
  local dir=$1 storage=${2:-} tls=${3:-tls}
  local ns="vlanmac-docker-$$"
  mkdir -p "$dir"
  ip netns add "$ns" || return 1
  ip -n "$ns" link set lo up
  local extra=()
  [ -n "$storage" ] && extra+=(--storage-driver "$storage")
  if [ "$tls" != no-tls ] && docker_tls_certs "$dir/tls"; then
    extra+=(--host tcp://127.0.0.1:2376 --tlsverify --tlscacert "$dir/tls/ca.pem"
      --tlscert "$dir/tls/server-cert.pem" --tlskey "$dir/tls/server-key.pem")
    export VLANMAC_DOCKER_TLS_HOST=tcp://127.0.0.1:2376 VLANMAC_DOCKER_TLS_DIR=$dir/tls
  fi
  nsenter --net="/run/netns/$ns" dockerd --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" --host "unix://$dir/docker.sock" \
    --iptables=false --ip6tables=false --bridge=none "${extra[@]}" > "$dir/dockerd.log" 2>&1 &
  echo $! > "$dir/dockerd.launcher.pid"
  export VLANMAC_DOCKER_HOST="unix://$dir/docker.sock" VLANMAC_DOCKER_NETNS="$ns" VLANMAC_DOCKER_IMAGE=vlanmac-test:busybox
  echo "$ns" > "$dir/netns"
  local i
  for i in $(seq 1 60); do
    DOCKER_HOST=$VLANMAC_DOCKER_HOST $DOCKER_CLI version >/dev/null 2>&1 && break
    sleep 0.5
  done
  DOCKER_HOST=$VLANMAC_DOCKER_HOST $DOCKER_CLI version >/dev/null 2>&1 || { echo "dockerd did not start:"; tail -n 20 "$dir/dockerd.log"; return 1; }
  # The test image: Debian's busybox-static and its applets, imported.
  local root="$dir/rootfs"
  rm -rf "$root"; mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
  cp /bin/busybox "$root/bin/"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
  tar -C "$root" -cf "$dir/rootfs.tar" .
  DOCKER_HOST=$VLANMAC_DOCKER_HOST $DOCKER_CLI import --change 'ENV PATH=/bin' --change 'CMD ["sleep","100000"]' \
    "$dir/rootfs.tar" "$VLANMAC_DOCKER_IMAGE" >/dev/null || return 1
}

# A throwaway CA, a server certificate for 127.0.0.1 and a client
# certificate, in DIR (openssl; quietly absent if openssl is).
docker_tls_certs() {
  local d=$1
  command -v openssl >/dev/null || return 1
  rm -rf "$d"; mkdir -p "$d"
  (
    cd "$d" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vlanmac-test-ca -keyout ca-key.pem -out ca.pem &&
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr &&
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server-cert.pem &&
    openssl req -newkey rsa:2048 -nodes -subj /CN=vlanmac-test-client -keyout key.pem -out client.csr &&
    printf 'extendedKeyUsage=clientAuth\n' > client.ext &&
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem
  ) > "$d/openssl.log" 2>&1
}

docker_stop() {
  local dir=$1
  [ -f "$dir/dockerd.pid" ] || [ -f "$dir/dockerd.launcher.pid" ] || return 0
  local host="unix://$dir/docker.sock"
  if [ -S "$dir/docker.sock" ]; then
    local ids
    ids=$(DOCKER_HOST=$host $DOCKER_CLI ps -aq 2>/dev/null)
    [ -n "$ids" ] && DOCKER_HOST=$host $DOCKER_CLI rm -f $ids >/dev/null 2>&1
    DOCKER_HOST=$host $DOCKER_CLI network prune -f >/dev/null 2>&1
  fi
  local pid
  pid=$(cat "$dir/dockerd.pid" 2>/dev/null || cat "$dir/dockerd.launcher.pid")
  kill "$pid" 2>/dev/null
  local i
  for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  # The containerd that dockerd launched, if it outlived it.
  local cpid
  cpid=$(cat "$dir/exec/containerd/containerd.pid" 2>/dev/null)
  if [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null; then
    kill "$cpid"; sleep 1; kill -0 "$cpid" 2>/dev/null && kill -9 "$cpid"
  fi
  # Whatever dockerd mounted under its roots.
  grep -o " $dir/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  [ -f "$dir/netns" ] && ip netns del "$(cat "$dir/netns")" 2>/dev/null
  rm -rf "$dir/data" "$dir/exec" "$dir/rootfs" "$dir/tls"
  # Never signal these PIDs again: they may belong to someone else later.
  rm -f "$dir/dockerd.pid" "$dir/dockerd.launcher.pid" "$dir/netns"
}
