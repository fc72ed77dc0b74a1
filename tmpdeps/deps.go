//go:build tools

// Package tmpdeps pins dependencies used by code still being written.
package tmpdeps

import (
	_ "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/proxytest"
	_ "github.com/tetratelabs/wazero"
	_ "github.com/tidwall/gjson"
	_ "golang.org/x/net/http2/h2c"
	_ "istio.io/api/extensions/v1alpha1"
	_ "sigs.k8s.io/yaml"
)
