// Command vendorspec takes a newly published Vast.ai OpenAPI document in:
// it reports what changed for the operations vast-mcp uses (breaking
// first, from oasdiff), checks that every overlay action still applies,
// and only then replaces openapi.yaml and records its provenance. `make
// vendor SPEC=file` runs it and regenerates everything after it.
//
// It is a module of its own so that oasdiff stays out of what an importer
// of package gen downloads.
//
//	go run -C internal/vendorspec . -root ../.. -spec new.yaml [-repo R -path P -commit C -date D]
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/speakeasy-api/openapi/overlay"
	"gopkg.in/yaml.v3"
)

// ProvenanceFile sits beside openapi.yaml; `make generate` checks it.
const ProvenanceFile = "openapi.provenance.json"

func main() {
	var (
		root = flag.String("root", ".", "the vast-mcp checkout")
		spec = flag.String("spec", "", "the newly published document")
		src  source
	)
	flag.StringVar(&src.Repository, "repo", "", "source repository (kept as recorded when empty)")
	flag.StringVar(&src.Path, "path", "", "path of the document in that repository (kept when empty)")
	flag.StringVar(&src.Commit, "commit", "", "commit it was taken from (kept when empty)")
	flag.StringVar(&src.Date, "date", "", "date of that commit, YYYY-MM-DD (kept when empty)")
	flag.Parse()
	if *spec == "" {
		fmt.Fprintln(os.Stderr, "usage: make vendor SPEC=path/to/openapi.yaml [SOURCE_REPO=… SOURCE_PATH=… SOURCE_COMMIT=… SOURCE_DATE=…]")
		os.Exit(2)
	}
	if err := run(os.Stdout, *root, *spec, src); err != nil {
		fmt.Fprintln(os.Stderr, "vendor:", err)
		os.Exit(1)
	}
}

// errOverlay means the new document was not taken: an overlay action no
// longer applies. The report above it says which.
var errOverlay = errors.New("openapi.yaml was left as it was: fix overlay.yaml (or the new document) and run the same command again")

func run(out io.Writer, root, specPath string, given source) error {
	newBytes, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	oldBytes, err := os.ReadFile(filepath.Join(root, "openapi.yaml"))
	if err != nil {
		return err
	}
	used, err := usedOperations(filepath.Join(root, "oapi-codegen.yaml"))
	if err != nil {
		return err
	}
	oldDoc, err := parseSpec(oldBytes)
	if err != nil {
		return fmt.Errorf("openapi.yaml: %w", err)
	}
	newDoc, err := parseSpec(newBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}

	changes, err := compare(oldDoc, newDoc, used)
	if err != nil {
		return err
	}
	changes.write(out)

	failures, err := checkOverlay(filepath.Join(root, "overlay.yaml"), newBytes)
	if err != nil {
		return err
	}
	writeOverlayReport(out, failures)
	if len(failures) > 0 {
		return errOverlay
	}

	if err := os.WriteFile(filepath.Join(root, "openapi.yaml"), newBytes, 0o644); err != nil {
		return err
	}
	p, err := recordProvenance(filepath.Join(root, ProvenanceFile), newBytes, newDoc, given)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nopenapi.yaml: %s, %d bytes, info.version %s, from %s %s at %s (%s)\n",
		p.SHA256[:12], p.Size, p.InfoVersion, p.Source.Repository, p.Source.Path, p.Source.Commit, p.Source.Date)
	if !bytes.Equal(oldBytes, newBytes) && (given.Commit == "" || given.Date == "") {
		fmt.Fprintln(out, "note: the document changed but SOURCE_COMMIT or SOURCE_DATE was not given; the provenance keeps the old ones")
	}
	return nil
}

// usedOperations reads the operations oapi-codegen includes: the ones the
// client, and so the tools, can call.
func usedOperations(configPath string) ([]string, error) {
	data, err := os.ReadFile(configPath)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		OutputOptions struct {
			IncludeOperationIDs []string `yaml:"include-operation-ids"`
		} `yaml:"output-options"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	if len(cfg.OutputOptions.IncludeOperationIDs) == 0 {
		return nil, fmt.Errorf("%s lists no include-operation-ids", configPath)
	}
	return cfg.OutputOptions.IncludeOperationIDs, nil
}

func parseSpec(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	return loader.LoadFromData(data)
}

// overlayFailure is one action that no longer applies.
type overlayFailure struct {
	index, total int
	action       overlay.Action
	err          error
}

// checkOverlay applies the overlay to the new document strictly, one
// action at a time, so that every action that fails is named, not only the
// first.
func checkOverlay(overlayPath string, spec []byte) ([]overlayFailure, error) {
	o, err := overlay.Parse(overlayPath)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(spec, &root); err != nil {
		return nil, err
	}
	var failures []overlayFailure
	for i, action := range o.Actions {
		one := *o
		one.Actions = []overlay.Action{action}
		if _, err := one.ApplyToStrict(&root); err != nil {
			failures = append(failures, overlayFailure{index: i + 1, total: len(o.Actions), action: action, err: err})
		}
	}
	return failures, nil
}

func writeOverlayReport(out io.Writer, failures []overlayFailure) {
	fmt.Fprintln(out, "\n== overlay.yaml, applied strictly to the new document")
	if len(failures) == 0 {
		fmt.Fprintln(out, "every action applies")
		return
	}
	fmt.Fprintf(out, "%d action(s) no longer apply; each is a decision to review against the new document:\n", len(failures))
	for _, f := range failures {
		fmt.Fprintf(out, "- action %d/%d, target %s\n", f.index, f.total, f.action.Target)
		if f.action.Copy != "" {
			fmt.Fprintf(out, "  copy from %s\n", f.action.Copy)
		}
		fmt.Fprintf(out, "  why it exists: %s\n", oneLine(f.action.Description))
		fmt.Fprintf(out, "  what failed: %s\n", oneLine(f.err.Error()))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// source is where the document came from, as the maintainer states it.
type source struct {
	Repository string `json:"repository"`
	Path       string `json:"path"`
	Commit     string `json:"commit"`
	Date       string `json:"date"`
}

// provenance is openapi.provenance.json: what the file itself tells
// (sha256, size, info.version) and where it came from.
type provenance struct {
	Source      source `json:"source"`
	SHA256      string `json:"sha256"`
	Size        int    `json:"size"`
	InfoVersion string `json:"info_version"`
}

func recordProvenance(path string, spec []byte, doc *openapi3.T, given source) (provenance, error) {
	var p provenance
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &p); err != nil {
			return p, fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return p, err
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&p.Source.Repository, given.Repository}, {&p.Source.Path, given.Path},
		{&p.Source.Commit, given.Commit}, {&p.Source.Date, given.Date},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	sum := sha256.Sum256(spec)
	p.SHA256, p.Size = hex.EncodeToString(sum[:]), len(spec)
	if doc.Info != nil {
		p.InfoVersion = doc.Info.Version
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return p, err
	}
	return p, os.WriteFile(path, append(data, '\n'), 0o644)
}
