#!/bin/sh
# proxy-compare.sh: nedry run's throughput and CPU per
# request next to a direct connection and Toxiproxy, measured in one run
# (scripts/proxycompare: 16 keep-alive connections on loopback, no fault,
# interleaved rounds). Toxiproxy is not a dependency of the module: it must
# be on PATH as toxiproxy-server, installed outside this repository.
set -eu
cd "$(dirname "$0")/.."
if ! command -v toxiproxy-server >/dev/null 2>&1; then
	cat >&2 <<'MSG'
proxy-compare: toxiproxy-server is not on PATH. Install it outside this
repository (it never goes into go.mod), for example:
    (cd /tmp && GOBIN=$HOME/bin go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.5.0 &&
        mv $HOME/bin/server $HOME/bin/toxiproxy-server)
(v2.5.0 names the command cmd/server; the releases on GitHub ship
toxiproxy-server binaries too)
then put $HOME/bin on PATH and run this again.
MSG
	exit 1
fi
make --no-print-directory build >/dev/null
go build -o build/nedry ./host-test/cmd/nedry
exec go run ./scripts/proxycompare -nedry build/nedry -wasm build/nedry.wasm "$@"
