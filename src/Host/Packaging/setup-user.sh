# engine_setup ROOT: the system user and group `engine` and the service's folders under ROOT
# ("" for this machine). With a ROOT the user goes into ROOT/etc/passwd (useradd --prefix), so an
# install into a folder (dpkg --root, install.sh --root) never touches the machine's own users.
engine_setup() {
  root="$1"
  if ! grep -q '^engine:' "$root/etc/group" 2>/dev/null; then
    if [ -n "$root" ]; then groupadd --prefix "$root" --system engine; else groupadd --system engine; fi
  fi
  if ! grep -q '^engine:' "$root/etc/passwd" 2>/dev/null; then
    set -- --system --gid engine --home-dir /var/lib/engine --no-create-home \
      --shell /usr/sbin/nologin --comment "engine media server" engine
    if [ -n "$root" ]; then useradd --prefix "$root" "$@"; else useradd "$@"; fi
  fi
  uid=$(awk -F: '$1 == "engine" { print $3 }' "$root/etc/passwd")
  gid=$(awk -F: '$1 == "engine" { print $3 }' "$root/etc/group")
  # systemd makes these too (StateDirectory=, LogsDirectory=); made here for a start without it.
  for dir in "$root/var/lib/engine" "$root/var/lib/engine/recordings" "$root/var/log/engine"; do
    mkdir -p "$dir"
    chown "$uid:$gid" "$dir"
    chmod 0750 "$dir"
  done
}
