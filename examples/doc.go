// Package examples holds Nedry's example plugin configurations (*.json),
// Istio WasmPlugin manifests (istio/) and the Dockerfile that packages the
// filter for Istio. It has no code; its tests check every file against the
// schemas Istio and the filter enforce, so no example rots unnoticed.
package examples
