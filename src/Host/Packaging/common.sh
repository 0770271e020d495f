# Shared by build-deb.sh and build-tar.sh (sourced). engine_setup is also copied into the .deb's
# postinst and the tar's install.sh, so both create the same user and folders.

# The packaged config: the binary's own defaults (--print-config) with the state folder systemd
# makes writable (StateDirectory=engine) for recordings, and the log folder (LogsDirectory=engine).
engine_packaged_config() {
  "$1" --print-config | sed \
    -e '1i # /etc/engine/mediaserver.config: the engine'"'"'s defaults (engine --print-config) for the packaged\n# service. Edits are kept on upgrade. Check a change with: engine --check-config --config THIS_FILE' \
    -e '/^\[LOG\]$/a # LOGDIR=/var/log/engine writes engine-YYYYMMDD.log there (rotated at 100 MB); unset, the log goes to stderr (the journal)\n#LOGDIR=/var/log/engine' \
    -e '/^\[WEBRTC\]$/a # The service'"'"'s only writable folder (StateDirectory=engine) holds the recordings\nRECORDDIR=/var/lib/engine/recordings'
}

# The version the binary reports ("engine 0.1.0" -> 0.1.0).
engine_version() {
  "$1" --version | awk '{ print $2 }'
}

# The Debian architecture of an ELF binary (e_machine, bytes 18-19, little-endian).
engine_arch() {
  case "$(od -An -t u2 -j 18 -N 2 "$1" | tr -d ' ')" in
    62) echo amd64 ;;
    183) echo arm64 ;;
    *) echo "unknown ELF machine in $1" >&2; return 1 ;;
  esac
}
