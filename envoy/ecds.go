// Package envoy holds Nedry's Envoy configurations (envoy.yaml and the ECDS
// variant in ecds/) and the code that rewrites the ECDS resource file a
// running Envoy watches, which is how `nedry push` delivers new fault rates
// without a restart.
//
// Its tests decode every shipped YAML into Envoy's v3 protos and validate
// them, so the files cannot drift from what Envoy accepts; e2e_test.go (build
// tag e2e) runs them in a real Envoy.
package envoy

import (
	"encoding/json"
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	"github.com/nedry-chaos/nedry/envoy/ecdsfile"

	// Every Any in our configs must resolve; importing the packages
	// registers their message types with the global protobuf registry.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// ECDSResourceName is the name of the TypedExtensionConfig in the ECDS file;
// it must equal the http filter name in ecds/envoy.yaml.
const ECDSResourceName = ecdsfile.ResourceName

// DecodeYAML decodes an Envoy YAML (or JSON) document into m with Envoy's
// strictness: unknown fields and unregistered Any types are errors.
func DecodeYAML(data []byte, m proto.Message) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("parse yaml: %w", err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, m); err != nil {
		return fmt.Errorf("decode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

// RenderECDS returns a copy of the ECDS file current (a DiscoveryResponse
// holding one TypedExtensionConfig named nedry whose typed_config is the Wasm
// filter) with the plugin configuration replaced by pluginConfig, passed to
// the filter as a google.protobuf.StringValue, and version_info set to
// version. Everything else (VM, code path, failure policy) is kept.
//
// The rewrite is ecdsfile.Render's (what nedry push runs, without protos);
// RenderECDS also validates the result against Envoy's protos. Validating
// pluginConfig itself is the caller's job (nedry push runs it through
// build/nedry.wasm first).
func RenderECDS(current []byte, pluginConfig, version string) ([]byte, error) {
	if err := ValidateECDS(current); err != nil {
		return nil, err
	}
	out, err := ecdsfile.Render(current, pluginConfig, version)
	if err != nil {
		return nil, err
	}
	if err := ValidateECDS(out); err != nil {
		return nil, fmt.Errorf("rendered file: %w", err)
	}
	return out, nil
}

// ValidateECDS decodes an ECDS file into Envoy's protos and validates it as
// Envoy would: one TypedExtensionConfig named nedry whose typed_config is a
// Wasm filter with a config.
func ValidateECDS(data []byte) error {
	f, err := decodeECDSFile(data)
	if err != nil {
		return err
	}
	if n := len(f.Resources); n != 1 {
		return fmt.Errorf("resources: want exactly 1 TypedExtensionConfig, got %d", n)
	}
	var tec corev3.TypedExtensionConfig
	if err := f.Resources[0].UnmarshalTo(&tec); err != nil {
		return fmt.Errorf("resources[0]: %w", err)
	}
	if tec.GetName() != ECDSResourceName {
		return fmt.Errorf("resources[0].name: must be %q, got %q", ECDSResourceName, tec.GetName())
	}
	var wasm wasmfilterv3.Wasm
	if err := tec.GetTypedConfig().UnmarshalTo(&wasm); err != nil {
		return fmt.Errorf("resources[0].typed_config: %w", err)
	}
	if wasm.GetConfig() == nil {
		return errors.New("resources[0].typed_config.config: missing")
	}
	if err := wasm.ValidateAll(); err != nil {
		return fmt.Errorf("validate wasm filter: %w", err)
	}
	if err := tec.ValidateAll(); err != nil {
		return fmt.Errorf("validate typed extension config: %w", err)
	}
	return nil
}

// ecdsFile is the subset of envoy.service.discovery.v3.DiscoveryResponse a
// filesystem ECDS subscription reads. It is decoded by hand because the
// generated discovery package pulls in gRPC, which this module does not
// depend on.
type ecdsFile struct {
	VersionInfo string
	TypeURL     string
	Resources   []*anypb.Any
}

// ecdsFields are DiscoveryResponse's fields; anything else is a typo.
var ecdsFields = map[string]bool{
	"version_info": true, "versionInfo": true,
	"resources": true,
	"canary":    true,
	"type_url":  true, "typeUrl": true,
	"nonce":         true,
	"control_plane": true, "controlPlane": true,
}

func decodeECDSFile(data []byte) (*ecdsFile, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, fmt.Errorf("decode discovery response: %w", err)
	}
	f := &ecdsFile{}
	for k, v := range top {
		if !ecdsFields[k] {
			return nil, fmt.Errorf("%s: unknown field", k)
		}
		var err error
		switch k {
		case "version_info", "versionInfo":
			err = json.Unmarshal(v, &f.VersionInfo)
		case "type_url", "typeUrl":
			err = json.Unmarshal(v, &f.TypeURL)
		case "resources":
			var raw []json.RawMessage
			if err = json.Unmarshal(v, &raw); err != nil {
				break
			}
			for i, r := range raw {
				a := &anypb.Any{}
				if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(r, a); err != nil {
					return nil, fmt.Errorf("resources[%d]: %w", i, err)
				}
				f.Resources = append(f.Resources, a)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return f, nil
}

// encode writes f back as an ECDS file; the e2e test renders its copies of
// the shipped file with it.
func (f *ecdsFile) encode() ([]byte, error) {
	resources := make([]json.RawMessage, 0, len(f.Resources))
	for i, r := range f.Resources {
		js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encode resources[%d]: %w", i, err)
		}
		resources = append(resources, js)
	}
	js, err := json.Marshal(map[string]any{
		"version_info": f.VersionInfo,
		"type_url":     f.TypeURL,
		"resources":    resources,
	})
	if err != nil {
		return nil, err
	}
	out, err := yaml.JSONToYAML(js)
	if err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return out, nil
}

// WriteECDS replaces the ECDS file at path with RenderECDS(file, pluginConfig,
// version), atomically (ecdsfile.ReplaceFile): Envoy's watched_directory
// fires on the rename; readers never see a half-written file.
func WriteECDS(path, pluginConfig, version string) error {
	return ecdsfile.Rewrite(path, func(current []byte) ([]byte, error) {
		return RenderECDS(current, pluginConfig, version)
	})
}
