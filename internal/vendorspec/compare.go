package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
)

// place is where an operation lives in a document.
type place struct{ method, path string }

func (p place) String() string { return p.method + " " + p.path }

// changes is the report for the operations vast-mcp uses.
type changes struct {
	used      int
	idAt      map[place]string // operationId by its place in the compared pair
	moved     []string         // operation: old place -> new place
	unnamed   []string         // found by method and path, without its operationId
	missing   []string         // not found at all
	breaking  []string
	warnings  []string
	otherInfo []string
}

// compare matches each used operation in both documents (by operationId,
// else by method and path up to a trailing slash) and diffs the matched
// pairs with oasdiff, each pair placed at one path so that a moved
// operation is compared field by field rather than as removed and added.
func compare(oldDoc, newDoc *openapi3.T, used []string) (*changes, error) {
	oldAt, newAt := operationsByID(oldDoc), operationsByID(newDoc)
	c := &changes{used: len(used), idAt: map[place]string{}}
	oldPaths, newPaths := openapi3.NewPaths(), openapi3.NewPaths()
	for _, id := range used {
		was, ok := oldAt[id]
		if !ok {
			return nil, fmt.Errorf("openapi.yaml has no operation %s, which oapi-codegen.yaml includes", id)
		}
		now, found := newAt[id]
		if !found {
			if now, found = findByPlace(newDoc, was); found {
				c.unnamed = append(c.unnamed, fmt.Sprintf("%-20s %s has no operationId", id, now))
			}
		}
		if !found {
			c.missing = append(c.missing, fmt.Sprintf("%-20s was %s", id, was))
			continue
		}
		if now != was {
			c.moved = append(c.moved, fmt.Sprintf("%-20s %s  ->  %s", id, was, now))
		}
		c.idAt[was] = id
		keep(oldPaths, was.path, was.method, oldDoc.Paths.Value(was.path).GetOperation(was.method))
		keep(newPaths, was.path, was.method, newDoc.Paths.Value(now.path).GetOperation(now.method))
	}
	if err := c.diff(reduced(oldDoc, oldPaths), reduced(newDoc, newPaths)); err != nil {
		return nil, err
	}
	return c, nil
}

func operationsByID(doc *openapi3.T) map[string]place {
	at := map[string]place{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID != "" {
				at[op.OperationID] = place{method, path}
			}
		}
	}
	return at
}

func findByPlace(doc *openapi3.T, want place) (place, bool) {
	trimmed := strings.TrimSuffix(want.path, "/")
	for path, item := range doc.Paths.Map() {
		if strings.TrimSuffix(path, "/") == trimmed && item.GetOperation(want.method) != nil {
			return place{want.method, path}, true
		}
	}
	return place{}, false
}

func keep(paths *openapi3.Paths, path, method string, op *openapi3.Operation) {
	item := paths.Value(path)
	if item == nil {
		item = &openapi3.PathItem{}
		paths.Set(path, item)
	}
	item.SetOperation(method, op)
}

func reduced(doc *openapi3.T, paths *openapi3.Paths) *openapi3.T {
	r := *doc
	r.Paths = paths
	return &r
}

func (c *changes) diff(oldDoc, newDoc *openapi3.T) error {
	before, err := specInfo(oldDoc, "openapi.yaml")
	if err != nil {
		return err
	}
	after, err := specInfo(newDoc, "new")
	if err != nil {
		return err
	}
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), before, after)
	if err != nil {
		return err
	}
	config := checker.NewConfig(checker.GetAllChecks())
	localizer := checker.NewDefaultLocalizer()
	for _, change := range checker.CheckBackwardCompatibilityUntilLevel(config, d, sources, checker.INFO) {
		id, ok := c.idAt[place{change.GetOperation(), change.GetPath()}]
		if !ok && !strings.Contains(change.GetId(), "version") {
			continue // schemas no used operation refers to
		}
		line := fmt.Sprintf("%-20s %s %s: %s", id, change.GetOperation(), change.GetPath(), change.GetUncolorizedText(localizer))
		switch change.GetLevel() {
		case checker.ERR:
			c.breaking = append(c.breaking, line)
		case checker.WARN:
			c.warnings = append(c.warnings, line)
		default:
			c.otherInfo = append(c.otherInfo, line)
		}
	}
	for _, list := range [][]string{c.breaking, c.warnings, c.otherInfo} {
		slices.Sort(list)
	}
	return nil
}

// specInfo round-trips a document through JSON so oasdiff loads it with
// its own loader, as it would a file.
func specInfo(doc *openapi3.T, name string) (*load.SpecInfo, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromDataWithPath(data, &url.URL{Path: name})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &load.SpecInfo{Url: name, Spec: spec}, nil
}

func (c *changes) write(out io.Writer) {
	fmt.Fprintf(out, "== What changed for the %d operations vast-mcp uses (oapi-codegen.yaml)\n", c.used)
	sections := []struct {
		title string
		lines []string
	}{
		{"Not found in the new document (breaking: the client loses these calls)", c.missing},
		{"Breaking (oasdiff error level)", c.breaking},
		{"Moved: path or method changed (the live service may not have; see overlay.yaml's slash actions)", c.moved},
		{"Found only by method and path: no operationId (oapi-codegen includes operations by id)", c.unnamed},
		{"Warnings (oasdiff warning level)", c.warnings},
		{"Other changes", c.otherInfo},
	}
	empty := true
	for _, s := range sections {
		if len(s.lines) == 0 {
			continue
		}
		empty = false
		fmt.Fprintf(out, "\n%s: %d\n", s.title, len(s.lines))
		for _, line := range s.lines {
			fmt.Fprintln(out, "- "+line)
		}
	}
	if empty {
		fmt.Fprintln(out, "no change")
	}
}
