# Sourced by tools/dist_train.sh and tools/dist_test.sh:
#   choose_port DEFAULT   sets PORT
# PORT given by the user is kept as is (a busy one then fails loudly in
# torch's launcher). Otherwise DEFAULT is used if it is free on this machine,
# else a free port the OS picks, so that a second job on the same machine
# (or a leftover process) does not make the launcher die with EADDRINUSE.
# Only for single-node jobs: every node of a multi-node job must be given
# the same PORT.
choose_port() {
    local default=$1
    if [ -n "${PORT:-}" ]; then
        return
    fi
    if [ "${NNODES:-1}" != 1 ]; then
        PORT=$default
        return
    fi
    PORT=$("$PYTHON" - "$default" <<'PY'
import socket
import sys

default = int(sys.argv[1])
with socket.socket() as s:
    try:
        s.bind(('', default))
        port = default
    except OSError:
        s.bind(('', 0))
        port = s.getsockname()[1]
print(port)
PY
)
    if [ "$PORT" != "$default" ]; then
        echo "port $default is busy: using free port $PORT (set PORT= to choose)" >&2
    fi
}
